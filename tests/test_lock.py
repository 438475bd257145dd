"""The lock (issue 16, part 2): requirements/lock.txt satisfies pyproject.toml, is what `make` and the Docker image
install, agrees with the image's Airflow, and the packages that carry data or whose internals we patch are pinned
narrowly in pyproject.toml itself. All offline: re-resolving needs the index, and is `make lock`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)", line)
        if m:
            pins[canonicalize_name(m.group(1))] = m.group(3)
    return pins


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_lock_satisfies_every_requirement_of_pyproject() -> None:
    """A dependency added or narrowed without `make lock` fails here (and `make venv`'s `uv pip check`)."""
    pins = locked()
    requirements = [*project()["dependencies"], *project()["optional-dependencies"]["dev"],
                    *project()["optional-dependencies"]["airflow"]]
    stale = []
    for text in requirements:
        req = Requirement(text)
        version = pins.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            stale.append(f"{text}: lock has {version}")
    assert not stale, "run `make lock`:\n" + "\n".join(stale)


def test_data_carrying_and_patched_packages_are_pinned_narrowly() -> None:
    """Phone metadata (phonenumbers 9.0.x) and GX's private HASH_THRESHOLD (quality/validate.py) change only through
    a reviewed pyproject.toml change, never through a fresh install; the ward codes are frozen catalog data
    (catalog/data/, ADR 5), and the package they were frozen from is pinned where it is still read (dev)."""
    specs = {canonicalize_name(Requirement(r).name): Requirement(r).specifier for r in project()["dependencies"]}
    assert "vietnam-provinces" not in specs and "vietnamadminunits" not in specs
    dev = {canonicalize_name(Requirement(r).name): Requirement(r).specifier
           for r in project()["optional-dependencies"]["dev"]}
    assert str(dev["vietnam-provinces"]).startswith("==")
    assert not specs["phonenumbers"].contains("9.1.0") and specs["phonenumbers"].contains("9.0.43")
    assert not specs["great-expectations"].contains("1.25.0")
    assert "HASH_THRESHOLD" in (ROOT / "quality" / "validate.py").read_text(encoding="utf-8"), \
        "no longer patched: the GX pin may be widened"


def test_make_and_the_image_install_from_the_lock() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^LOCK := requirements/lock.txt$", makefile, flags=re.M)
    assert "pip sync --quiet --compile-bytecode --python $(BIN)/python $(LOCK)" in makefile
    # Machines of this kind set PYTHONDONTWRITEBYTECODE: without bytecode compiled at install, every process
    # (each CLI door a test starts) compiles Great Expectations and pandas from source again.
    assert re.search(r"^unexport PYTHONDONTWRITEBYTECODE$", makefile, flags=re.M)
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert "--constraint /opt/lienthong/requirements/lock.txt" in dockerfile
    image_airflow = re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", dockerfile, flags=re.M).group(1)
    assert locked()["apache-airflow"] == image_airflow, "the lock and docker/Dockerfile name different Airflows"
    assert re.search(r"^FROM apache/airflow:\S+-python3\.11$", dockerfile, flags=re.M)
    assert "--python-version 3.11" in makefile, "the lock is resolved for the image's Python"


def test_ci_runs_the_readme_test_commands() -> None:
    ci = [line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
          if line and not line.startswith(("#", "set ", "cd "))]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ci == ["make test-all", "make smoke"]
    assert "`.ci/run` runs `make test-all` then `make smoke`" in readme
