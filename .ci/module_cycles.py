#!/usr/bin/env python3
"""No module of a crate imports one that imports it back (issue #13).

Reads every `crate::<module>` path outside comments and test modules in
each crate's src/, builds the graph of its top-level modules, and exits 1
naming every circle (strongly connected component) it finds.
"""
import os
import re
import sys

CRATES = ["datawal-core", "datawal-typed", "datawal-derive", "datawal-cli"]


def graph(crate):
    src = os.path.join(crate, "src")
    edges = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            top = os.path.relpath(path, src).split("/")[0].removesuffix(".rs")
            if top in ("lib", "main"):
                continue
            text = open(path, encoding="utf-8").read()
            text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
            code = "\n".join(l for l in text.split("\n") if not l.strip().startswith("//"))
            deps = set(re.findall(r"crate::(\w+)", code))
            for group in re.findall(r"use crate::\{([^}]*)\}", code, re.S):
                deps |= set(re.findall(r"(?:^|,)\s*(\w+)", group))
            edges.setdefault(top, set()).update(d for d in deps if d != top)
    return {m: {d for d in ds if d in edges} for m, ds in edges.items()}


def circles(g):
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


bad = False
for crate in CRATES:
    for comp in circles(graph(crate)):
        bad = True
        print(f"{crate}: modules import each other in a circle: {', '.join(comp)}")
print("module imports: no circles" if not bad else "module imports: circles found")
sys.exit(1 if bad else 0)
