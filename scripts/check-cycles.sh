#!/usr/bin/env bash
# No module of a crate imports a module that imports it back (STYLE.md, "The layers").
#
# For every crate of the workspace (each directory with a Cargo.toml and a src/), the edges are
# the `crate::<module>` paths in each top-level module's code (submodules count as their
# top-level module; test modules, comments and doc comments are left out). Paths through the
# crate root (`crate::SomeReexport`) are not followed. Any strongly connected set of two or more
# modules is a cycle and fails the check.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import os, re, sys

def crates():
    for base, dirs, files in os.walk("."):
        dirs[:] = [d for d in dirs if d not in ("target", ".git", "node_modules")]
        if "Cargo.toml" in files and os.path.isdir(os.path.join(base, "src")):
            yield os.path.normpath(base)

PATH = re.compile(r"\bcrate::(?:\{\s*)?([a-z_][a-z0-9_]*)")
GROUP = re.compile(r"\bcrate::\{([^}]*)\}")

def code_lines(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    # Drop block comments, then the `#[cfg(test)] mod ... {` part to the end of the file
    # (test modules sit last by convention) and line comments.
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    m = re.search(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", text)
    if m:
        text = text[: m.start()]
    for line in text.splitlines():
        line = re.sub(r"//.*", "", line)
        if line.strip():
            yield line

def module_of(src, path):
    rel = os.path.relpath(path, src)
    first = rel.split(os.sep)[0]
    name = first[:-3] if first.endswith(".rs") else first
    return None if name in ("lib", "main") and os.sep not in rel else name

failed = False
for crate in sorted(crates()):
    src = os.path.join(crate, "src")
    files = []
    for base, _, names in os.walk(src):
        files += [os.path.join(base, n) for n in names if n.endswith(".rs")]
    modules = {m for m in (module_of(src, p) for p in files) if m and m != "bin"}
    edges = {m: set() for m in modules}
    for path in files:
        me = module_of(src, path)
        if me not in modules:
            continue
        for line in code_lines(path):
            targets = set(PATH.findall(line))
            for group in GROUP.findall(line):
                targets |= {t.strip().split("::")[0] for t in group.split(",")}
            for t in targets:
                if t in modules and t != me:
                    edges[me].add(t)
    # Tarjan's strongly connected components.
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    if sccs:
        failed = True
        for comp in sccs:
            detail = "; ".join(f"{a} -> {', '.join(sorted(edges[a] & set(comp)))}" for a in comp)
            print(f"FAIL {crate}: modules import each other in a circle: {detail}")
    else:
        print(f"ok   {crate}: no import cycles among {len(modules)} modules")
sys.exit(1 if failed else 0)
PY
