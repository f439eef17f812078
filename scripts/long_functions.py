#!/usr/bin/env python3
"""Lists the C++ functions under a folder longer than N lines, longest first.

Usage: scripts/long_functions.py [FOLDER=src] [N=120]. Needs universal-ctags (its `end` field).
"""
import json, subprocess, sys
root = sys.argv[1] if len(sys.argv) > 1 else "src"
limit = int(sys.argv[2]) if len(sys.argv) > 2 else 120
out = subprocess.run(["ctags", "-R", "--languages=C++", "--kinds-C++=f", "--fields=+neS",
                      "--output-format=json", "-f", "-", root], capture_output=True, text=True).stdout
rows = []
for line in out.splitlines():
    t = json.loads(line)
    if t.get("_type") != "tag" or "end" not in t or t["name"].startswith("__anon"):
        continue
    n = t["end"] - t["line"] + 1
    if n > limit:
        scope = t.get("scope", "")
        rows.append((n, f'{t["path"]}:{t["line"]}', (scope + "::" if scope else "") + t["name"]))
for n, where, name in sorted(rows, reverse=True):
    print(f"{n:5d}  {name}  {where}")
