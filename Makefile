# Ark: the two commands a new user needs are `make demo` and `make test`.
BUILD ?= build
SAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test test-asan bench clean format

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/ark demo --out out/demo
	@echo "Open out/demo/report.html in a browser."

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan

$(SAN_BUILD)/build.ninja:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DARK_SANITIZE=ON -DARK_BUILD_BENCH=OFF

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (slow end-to-end tests excluded).
test-asan: deps $(SAN_BUILD)/build.ninja
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -E 'EndToEnd|Crash'

bench: build
	bash bench/run.sh

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
