"""Imports point down (STYLE rule 13, issue 13 part 7): the layers contract holds, every module sits in a layer,
no module imports itself back at load time, no module writes options into ``os.environ``, and the committed
picture of the import graph is the one the code draws."""

from __future__ import annotations

import ast
import importlib.util
import io
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("import_graph", module)
    spec.loader.exec_module(module)
    return module


graph = _load_script()

# Writes into os.environ that remain, each with why it cannot be passed instead. Anything else is a failure.
ENVIRON_WRITES_ALLOWED = {
    # Spawned parse workers inherit the environment; Arrow reads its allocator choice only from there, at load.
    "connectors/isolated.py": "ARROW_DEFAULT_MEMORY_POOL for spawned parse workers",
    # Connectors read secrets from the variables their source names (STYLE 6); an Airflow Connection fills them.
    "lienthong/orchestration/connections.py": "a source's secrets from its Airflow Connection",
    # The demo's made-up bearer token reaches its REST connector the way every secret does: by variable name.
    # The fork of the warm server that runs a caller's `check` becomes that caller's process: its environment too.
    "lienthong/cli/warm_server.py": "the caller's own environment, in the fork that runs its command",
    # A processing worker forked by the fork server takes the environment the server has when the worker starts,
    # as a child process would (the fork server's is that of its first start): sources' secrets are read from it.
    "lienthong/api/processing.py": "the server's environment, in the worker forked for it",
    "lienthong/cli/demo.py": "the demo API's token and the stand-in gateway's connection account for this run "
                             "(secrets, not options)",
}


def test_layers_contract_is_kept() -> None:
    """import-linter's layers contract in pyproject.toml: no import climbs back up (lazy imports included)."""
    pytest.importorskip("importlinter")
    from importlinter.cli import lint_imports

    out = io.StringIO()
    with redirect_stdout(out):
        code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert code == 0, out.getvalue()[-4000:]


def test_every_module_sits_in_a_layer() -> None:
    """A new top-level module or package of lienthong is placed in the contract, or the contract says nothing of it."""
    entries = {e.strip("()") for layer in graph.layers() for e in layer}
    tops = set(graph.root_packages())
    placed = {m for m in graph.modules() if graph.unit_of(m, sorted(entries)) is not None}
    missing = sorted(m for m in graph.modules() if m not in placed and m not in tops)
    assert not missing, f"place these in [tool.importlinter] layers of pyproject.toml: {missing}"


def test_no_import_loop_at_load_time() -> None:
    """No module imports, while it loads, a module that imports it back (the old warehouse/tables* loop)."""
    known = graph.modules()
    edges: dict[str, set[str]] = {}
    for imp in graph.imports():
        if imp.at_load and imp.imported in known and imp.imported != imp.importer:
            edges.setdefault(imp.importer, set()).add(imp.imported)
    loops = []
    for start in sorted(edges):
        path = _path_back(edges, start)
        if path:
            loops.append(" -> ".join(path))
    assert not loops, "import loops:\n" + "\n".join(loops)


def _path_back(edges: dict[str, set[str]], start: str) -> list[str] | None:
    """A chain of load-time imports from ``start`` back to itself, if any (depth-first)."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_import_loop_is_found(tmp_path: Path) -> None:
    """The loop check sees a loop: two modules of a package importing each other at load time."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import X\nY = 1\n")
    (tmp_path / "pkg" / "b.py").write_text("X = 1\nfrom pkg import a  # noqa\n\ndef f():\n    from pkg import a\n")
    (tmp_path / "pyproject.toml").write_text('[tool.importlinter]\nroot_packages = ["pkg"]\n')
    edges: dict[str, set[str]] = {}
    for imp in graph.imports(tmp_path):
        if imp.at_load:
            edges.setdefault(imp.importer, set()).add(imp.imported)
    assert _path_back(edges, "pkg.a") == ["pkg.a", "pkg.b", "pkg.a"]


def environ_writes(path: Path) -> list[int]:
    """Lines of ``path`` that write the process environment: ``os.environ[...] = / del``, its mutating methods,
    ``os.putenv`` / ``os.unsetenv`` (also through ``from os import environ``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {"os.environ"} | {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                              and n.module == "os" for a in n.names if a.name == "environ"}

    def is_environ(node: ast.AST) -> bool:
        return ast.unparse(node) in names

    lines = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        if any(isinstance(t, ast.Subscript) and is_environ(t.value) for t in targets):
            lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, method = node.func.value, node.func.attr
            if is_environ(owner) and method in ("update", "setdefault", "pop", "popitem", "clear", "__setitem__",
                                                "__delitem__"):
                lines.append(node.lineno)
            if ast.unparse(owner) == "os" and method in ("putenv", "unsetenv"):
                lines.append(node.lineno)
    return sorted(lines)


def test_no_module_writes_the_environment() -> None:
    """Options travel as Settings, not through os.environ; the few writes left are listed with their reason."""
    found = {}
    for path in graph.modules().values():
        rel = path.relative_to(ROOT).as_posix()
        lines = environ_writes(path)
        if lines:
            found[rel] = lines
    unexpected = {rel: lines for rel, lines in found.items() if rel not in ENVIRON_WRITES_ALLOWED}
    assert not unexpected, f"pass Settings (or env= to a subprocess) instead of writing os.environ: {unexpected}"
    stale = sorted(set(ENVIRON_WRITES_ALLOWED) - set(found))
    assert not stale, f"no longer write os.environ: remove from ENVIRON_WRITES_ALLOWED: {stale}"


def test_environ_writes_are_found(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import os\nfrom os import environ as E\nos.environ['A'] = '1'\nE.update(B='2')\n"
                      "os.environ.get('C')\ndel os.environ['A']\nos.putenv('D', '3')\nx = os.environ['C']\n")
    assert environ_writes(source) == [3, 4, 6, 7]


def test_committed_import_graph_is_current() -> None:
    """docs/import-graph.dot is what scripts/import_graph.py draws from today's code, and the SVG is drawn from it.
    After moving an import: `python scripts/import_graph.py` (needs Graphviz `dot`) and commit both files."""
    dot = graph.dot_source()
    assert graph.DOT_PATH.read_text(encoding="utf-8") == dot, "run `python scripts/import_graph.py`"
    svg = graph.SVG_PATH.read_text(encoding="utf-8")
    assert graph.svg_source_hash(svg) == graph.source_hash(dot), "run `python scripts/import_graph.py`"
    assert "<svg" in svg


def test_the_picture_has_no_arrow_up() -> None:
    """Every arrow of the picture goes from a higher layer to a lower one (the contract, seen from the picture)."""
    rank = {e.strip("()"): i for i, layer in enumerate(graph.layers()) for e in layer}
    upward = [f"{a} -> {b}" for (a, b) in graph.unit_edges() if rank[a] >= rank[b]]
    assert not upward, upward
