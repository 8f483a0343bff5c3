#!/usr/bin/env bash
# Installs the Debian packages Ark needs, only those missing. Idempotent; quick when all present.
set -euo pipefail
PKGS=(cmake ninja-build g++ clang-14 libclang-rt-14-dev pkg-config python3
      libsqlite3-dev sqlite3 libssl-dev libzstd-dev nlohmann-json3-dev
      libyaml-cpp-dev libcli11-dev libfmt-dev libxxhash-dev libgtest-dev libgmock-dev
      libbenchmark-dev zlib1g-dev graphviz ccache libpq-dev postgresql-15
      libboost-dev nodejs curl unzip time chromium openssl
      libeigen3-dev r-base-core r-cran-proc r-cran-metafor r-cran-spdep libxgboost-dev
      python3-sklearn python3-statsmodels)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # Debian's SciPy stack (sklearn, statsmodels) needs the default Boost (1.74), which conflicts
  # with libboost1.81-dev: the build uses the default, and an older machine's 1.81 is removed.
  remove=()
  dpkg-query -W -f='${Status}' libboost1.81-dev 2>/dev/null | grep -q "install ok installed" &&
    remove+=(libboost1.81-dev-)
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" "${remove[@]}" >/dev/null
fi
