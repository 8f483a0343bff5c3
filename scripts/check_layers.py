#!/usr/bin/env python3
"""Lists includes in src/<layer>/ (tests aside) that point to a layer cmake/layers.cmake does not
let that layer use. The build refuses them too; this says all of them at once, without building."""
import glob, os, re, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
text = open(os.path.join(root, "cmake", "layers.cmake")).read()
uses = {m.group(1): m.group(2).split() for m in re.finditer(r"set\(ARK_LAYER_(\w+)((?:\s+\w+)*)\)", text)}

def closure(layer):
    seen, pending = {layer}, list(uses.get(layer, []))
    while pending:
        l = pending.pop()
        if l not in seen:
            seen.add(l)
            pending += uses.get(l, [])
    return seen

bad = 0
for path in sorted(glob.glob(os.path.join(root, "src", "*", "*"))):
    if path.endswith("_test.cc") or not path.endswith((".h", ".cc")):
        continue
    layer = path.split(os.sep)[-2]
    if layer not in uses:
        print(f"{os.path.relpath(path, root)}: layer '{layer}' is not in cmake/layers.cmake")
        bad += 1
        continue
    allowed = closure(layer)
    for n, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
        m = re.match(r'\s*#\s*include\s+"(\w+)/', line)
        if m and os.path.isdir(os.path.join(root, "src", m.group(1))) and m.group(1) not in allowed:
            print(f"{os.path.relpath(path, root)}:{n}: layer '{layer}' may not include '{m.group(1)}/'")
            bad += 1
sys.exit(1 if bad else 0)
