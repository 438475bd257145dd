"""Draw the import graph of the hub's packages: ``python scripts/import_graph.py`` writes docs/import-graph.dot
and, with Graphviz ``dot`` installed, docs/import-graph.svg.

Nodes are the layers' entries of the import-linter contract in pyproject.toml (``lienthong.cli``, ``connectors``
…), drawn in the contract's order from top to bottom; an arrow is "some module of A imports some module of B"
(imports inside functions included). An arrow climbing back up is a broken contract: tests/test_layers.py fails
first, and checks that the committed picture is the one this script draws from the code.
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOT_PATH = ROOT / "docs" / "import-graph.dot"
SVG_PATH = ROOT / "docs" / "import-graph.svg"
SOURCE_MARK = "<!-- import-graph.dot sha256: {} -->"


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, where, and whether it runs when the module is loaded."""

    importer: str  # dotted module name
    imported: str  # dotted name of the module (or package) imported
    path: Path
    line: int
    at_load: bool  # at module level (not inside a function, not under `if TYPE_CHECKING:`)


def root_packages(root: Path = ROOT) -> list[str]:
    """The packages the contract covers (``[tool.importlinter] root_packages``)."""
    return _importlinter(root)["root_packages"]


def layers(root: Path = ROOT) -> list[list[str]]:
    """The contract's layers, top first; each a list of its entries (``(x)`` for an optional one)."""
    contract = next(c for c in _importlinter(root)["contracts"] if c["type"] == "layers")
    return [[e.strip() for e in layer.split("|")] for layer in contract["layers"]]


def _importlinter(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the root packages (migrations excluded: Alembic loads them by path), by dotted name."""
    found: dict[str, Path] = {}
    for package in root_packages(root):
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(root: Path = ROOT) -> Iterator[Import]:
    """Every import, within the root packages, of every module of :func:`modules`."""
    known = modules(root)
    tops = set(root_packages(root))
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, at_load in _walk(tree.body, at_load=True):
            for target in _targets(node, name, is_package, known):
                if target.split(".")[0] in tops:
                    yield Import(name, target, path, node.lineno, at_load)


def _walk(body: list[ast.stmt], *, at_load: bool) -> Iterator[tuple[ast.stmt, bool]]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, at_load
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _walk(node.body, at_load=False)
            yield from _walk(node.orelse, at_load=at_load)
            continue
        inner = at_load and not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for field in ("body", "orelse", "finalbody", "handlers"):
            for child in getattr(node, field, []) or []:
                if isinstance(child, ast.ExceptHandler):
                    yield from _walk(child.body, at_load=inner)
                elif isinstance(child, ast.stmt):
                    yield from _walk([child], at_load=inner)


def _targets(node: ast.stmt, name: str, is_package: bool, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ""
    if node.level:
        package = name.split(".") if is_package else name.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, *([node.module] if node.module else [])])
    # `from package import submodule` imports the submodule; `from module import name` the module.
    subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
    return subs if len(subs) == len(node.names) else [base, *subs]


def unit_of(module: str, units: list[str]) -> str | None:
    """The layer entry (``lienthong.api``, ``connectors`` …) a module belongs to, the longest that contains it."""
    best = None
    for unit in units:
        if (module == unit or module.startswith(unit + ".")) and (best is None or len(unit) > len(best)):
            best = unit
    return best


def unit_edges(root: Path = ROOT) -> dict[tuple[str, str], int]:
    """(importing entry, imported entry) -> number of import statements, between different entries."""
    units = [e.strip("()") for layer in layers(root) for e in layer]
    edges: dict[tuple[str, str], int] = defaultdict(int)
    for imp in imports(root):
        a, b = unit_of(imp.importer, units), unit_of(imp.imported, units)
        if a and b and a != b:
            edges[(a, b)] += 1
    return dict(sorted(edges.items()))


def dot_source(root: Path = ROOT) -> str:
    """The Graphviz source of the picture: one row per layer, top first; arrows point down."""
    edges = unit_edges(root)
    present = {u for edge in edges for u in edge}
    lines = ["// Generated by scripts/import_graph.py from the code and pyproject.toml; do not edit.",
             "digraph imports {", '  graph [rankdir=TB, ranksep=0.45, nodesep=0.25, fontname="Helvetica"];',
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3f8", fontname="Helvetica", fontsize=11];',
             '  edge [color="#55667788", arrowsize=0.6];']
    for i, layer in enumerate(layers(root)):
        names = [e.strip("()") for e in layer]
        names = [n for n in names if n in present or not layer[names.index(n)].startswith("(")]
        if names:
            lines.append(f"  {{ rank=same; // layer {i + 1}")
            lines.extend(f'    "{n}";' for n in names)
            lines.append("  }")
    lines.extend(f'  "{a}" -> "{b}";' for (a, b) in edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def source_hash(dot: str) -> str:
    return hashlib.sha256(dot.encode("utf-8")).hexdigest()


def svg_source_hash(svg: str) -> str | None:
    """The hash of the DOT source a committed SVG was drawn from (the comment :func:`main` puts in it)."""
    found = re.search(SOURCE_MARK.format("([0-9a-f]{64})"), svg)
    return found.group(1) if found else None


def main() -> int:
    dot = dot_source()
    DOT_PATH.write_text(dot, encoding="utf-8")
    print(f"wrote {DOT_PATH.relative_to(ROOT)}")
    exe = shutil.which("dot")
    if exe is None:
        print("Graphviz `dot` not found (apt-get install graphviz): the SVG was not redrawn", file=sys.stderr)
        return 1
    svg = subprocess.run([exe, "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
    svg = svg.replace("<svg", SOURCE_MARK.format(source_hash(dot)) + "\n<svg", 1)
    SVG_PATH.write_text(svg, encoding="utf-8")
    print(f"wrote {SVG_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
