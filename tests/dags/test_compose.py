"""docker-compose.yml, checked statically: Docker does not run on the maintainers' machines (see docs/airflow.md)."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.dags.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
AIRFLOW_SERVICES = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker"}
EXPECTED = {"postgres", "redis", "init", "hub-api", *AIRFLOW_SERVICES}
_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")  # ${VAR}, ${VAR:-x}, ${VAR:?x}; not $${VAR}


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that refuses a key given twice in one mapping, as ``docker compose`` does."""


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    # the node's own keys, before merge keys (<<) are flattened in: overriding a merged key is allowed
    keys = [k.value for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        msg = f"duplicate keys {sorted(dupes)} at line {node.start_mark.line + 1}"
        raise yaml.constructor.ConstructorError(None, None, msg, node.start_mark)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.load(COMPOSE.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _one_shot(services: dict) -> set[str]:
    """Services others wait for to *complete* (migrations): they exit, so a health check means nothing."""
    return {name for s in services.values() for name, cond in (s.get("depends_on") or {}).items()
            if isinstance(cond, dict) and cond.get("condition") == "service_completed_successfully"}


def test_every_service_the_hub_needs_is_there(services: dict) -> None:
    assert set(services) >= EXPECTED


def test_airflow_runs_on_celery_with_the_project_image(services: dict) -> None:
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"
        assert env["LIENTHONG_DATABASE_URL"].startswith("postgresql+psycopg://")
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {"airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                        "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
                        "airflow-worker": "celery worker"}
    assert services["hub-api"]["command"] == ["lienthong", "serve", "--host", "0.0.0.0", "--port", "8080"]


def test_images_are_pinned(services: dict) -> None:
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name}: no image (a built service still needs a versioned tag)"
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest" and re.match(r"^\d+(\.\d+)+", tag), f"{name}: image {image!r} is not pinned"
    dockerfile = (REPO / "docker" / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.M)
    assert bases == ["apache/airflow:3.3.2-python3.11"]


def test_every_long_running_service_has_a_health_check(services: dict) -> None:
    one_shot = _one_shot(services)
    assert one_shot == {"init"}
    assert services["init"]["restart"] == "no"
    for name, service in services.items():
        if name not in one_shot:
            test = service.get("healthcheck", {}).get("test")
            assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name}: no health check"


def test_state_lives_in_named_volumes(compose: dict, services: dict) -> None:
    declared = set(compose["volumes"])
    used = set()
    for service in services.values():
        for volume in service.get("volumes", []):
            src = volume.split(":", 1)[0]
            if not src.startswith((".", "/")):
                used.add(src)
    assert used == declared
    assert {"postgres-data", "lienthong-home", "airflow-logs"} <= declared
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])


def test_postgres_creates_both_databases(services: dict) -> None:
    mounts = services["postgres"]["volumes"]
    init = [m for m in mounts if "/docker-entrypoint-initdb.d/" in m]
    assert init, "no init script for the airflow and lienthong databases"
    script = (REPO / init[0].split(":", 1)[0]).read_text(encoding="utf-8")
    assert "CREATE DATABASE airflow" in script and "CREATE DATABASE lienthong" in script


def test_workers_scale_out(services: dict) -> None:
    worker = services["airflow-worker"]
    assert "container_name" not in worker
    assert "ports" not in worker  # a fixed host port would stop the second replica


def test_env_example_defines_every_variable(compose: dict) -> None:
    used = set(_VAR.findall(COMPOSE.read_text(encoding="utf-8")))
    defined = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    assert used, "the compose file uses no variable: the check would prove nothing"
    assert used <= defined, f"missing from .env.example: {sorted(used - defined)}"


def test_env_example_holds_placeholders_only() -> None:
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if any(word in name for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")) and not line.startswith("#"):
            assert value.startswith("change-me"), f"{name} must be a placeholder in .env.example"
