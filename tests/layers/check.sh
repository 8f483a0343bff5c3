#!/usr/bin/env bash
# Layers.BuildHoldsTheLayers: the build compiles each layer against an include tree holding only
# the layers it may use (cmake/layers.cmake). A file in the store layer that includes governance
# must not compile; the same file including core must; and no source in src/ points up.
set -euo pipefail
src=$1 bin=$2 cxx=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf '#include "core/fs.h"\nint main() { return 0; }\n' > "$tmp/down.cc"
printf '#include "governance/gate.h"\nint main() { return 0; }\n' > "$tmp/up.cc"
flags=(-std=c++20 -fsyntax-only -I "$src/include" -I "$bin/layers/store")
"$cxx" "${flags[@]}" "$tmp/down.cc" || { echo "FAIL: the store layer cannot include core"; exit 1; }
if "$cxx" "${flags[@]}" "$tmp/up.cc" 2>"$tmp/err"; then
  echo "FAIL: the store layer could include governance"; exit 1
fi
grep -q "governance/gate.h" "$tmp/err" || { cat "$tmp/err"; echo "FAIL: not refused for the include"; exit 1; }
python3 "$src/scripts/check_layers.py"
echo "layers ok"
