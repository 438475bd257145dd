"""Runtime dependencies are complete (issue 16, part 1): every third-party module that the package's code imports
(lazy imports included) belongs to a distribution of ``[project.dependencies]``, to the extra of the layer that
uses it (Airflow for the orchestration glue and dags/), or to the short list of optional ones below, each of which
the code imports behind a clear message. A plain ``pip install lienthong`` then runs every command."""

from __future__ import annotations

import ast
import importlib.metadata as md
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lienthong", "connectors", "schemas", "catalog", "quality")
# Folders whose imports may come from an extra rather than the base install.
EXTRA_OF_FOLDER = {"lienthong/orchestration": "airflow", "dags": "airflow", "lienthong/bench": "bench"}
# Imported only when a deployment asks for them, behind an ImportError with what to install.
OPTIONAL = {
    "pyspark": "lienthong/match/model.py: the Spark backend of national-scale matching",
}


def declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    extras = {name: {canonicalize_name(Requirement(r).name) for r in reqs}
              for name, reqs in project.get("optional-dependencies", {}).items()}
    return base, extras


def third_party_imports(folder: Path, root: Path = ROOT) -> dict[str, set[str]]:
    """Top-level module name -> files (relative to ``root``) importing it, at load or inside a function."""
    own = set(PACKAGES) | {"dags"}
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in own and top not in sys.stdlib_module_names and top != "__future__":
                    found.setdefault(top, set()).add(path.relative_to(root).as_posix())
    return found


def undeclared() -> list[str]:
    base, extras = declared()
    distributions = md.packages_distributions()
    problems = []
    for folder in [*PACKAGES, "dags"]:
        for module, files in sorted(third_party_imports(ROOT / folder).items()):
            if module in OPTIONAL:
                continue
            provided = {canonicalize_name(d) for d in distributions.get(module, ())}
            for file in sorted(files):
                extra = next((e for f, e in EXTRA_OF_FOLDER.items() if file.startswith(f + "/")), None)
                allowed = base | (extras.get(extra, set()) if extra else set())
                # A module that several distributions provide (airflow.*) is fine when any of them is declared,
                # directly or as the extra's own distribution (apache-airflow pulls apache-airflow-core).
                if not provided & allowed and not (extra and provided and module == extra):
                    problems.append(f"{file} imports {module} ({', '.join(sorted(provided)) or 'not installed'})")
    return problems


def test_every_runtime_import_is_a_declared_dependency() -> None:
    problems = undeclared()
    assert not problems, "add to [project.dependencies] of pyproject.toml (or import behind an extra):\n" + \
        "\n".join(problems)


def test_an_undeclared_import_is_found(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("import os\nfrom rich.console import Console\n\ndef f():\n    import zzz_missing\n")
    assert third_party_imports(tmp_path, tmp_path) == {"rich": {"m.py"}, "zzz_missing": {"m.py"}}


def test_optional_imports_are_still_imported() -> None:
    """The optional list does not go stale: each entry is still imported where it says."""
    for module, where in OPTIONAL.items():
        file = where.split(":")[0]
        assert module in third_party_imports(ROOT / Path(file).parent), f"{module} no longer imported: {where}"


# One library per job (issue 16, part 6): a second HTTP client would bring its own timeouts, retries and errors.
NOT_OURS = {"requests": "httpx is the hub's one HTTP client (docs/adr/0015-one-http-client-httpx.md)"}


def test_no_second_http_client() -> None:
    """``requests`` stays a dependency of Airflow and Great Expectations, not of any code or test of ours."""
    found = [f"{file} imports {module}: {why}"
             for folder in [*PACKAGES, "dags", "scripts", "tests"]
             for module, why in NOT_OURS.items()
             for file in sorted(third_party_imports(ROOT / folder).get(module, ()))]
    assert not found, "\n".join(found)
    base, _ = declared()
    assert not base & set(NOT_OURS), "not a dependency of ours: it comes with Airflow and GX"
