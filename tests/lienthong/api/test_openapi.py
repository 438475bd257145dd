"""The OpenAPI document against the real server: schemathesis generates requests from it (bounded examples) and
checks there is no 5xx and every response matches the document (status, content type, schema, headers) — the
checks named in ``CHECKS``, so a change of schemathesis's defaults cannot quietly drop one."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import BAD_ROWS, GOOD_ROWS, members_csv

pytestmark = pytest.mark.integration
EXAMPLES = 12
EXCLUDED: list = []
# Named, not left to schemathesis's configured defaults: no 5xx, and no status code, content type, header or body
# the document does not promise (issue 12, "Done when").
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
OURS = ("/api/v1/", "/healthz", "/readyz", "/metrics")


@pytest.fixture
def api_server(server: Server) -> Server:
    with server.client("hlhpn") as c:
        c.post("/api/v1/feeds/hlhpn_push/batches", content=members_csv(GOOD_ROWS + BAD_ROWS).encode(),
               params={"wait": "true"}, headers={"Content-Type": "text/csv"}).raise_for_status()
    server.key("fuzz", "admin", rate=1_000_000)
    return server


# schemathesis.pytest.from_fixture does not run on pytest 9 (it sets Function._nodeid, which pytest 9 removed), so
# the test drives schemathesis's v4 Python API itself: one Hypothesis run per operation, positive then negative.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_document(api_server: Server, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{api_server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {api_server.tokens['fuzz']}"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(OURS):  # the open-data router (no key) is tested by its own room
            continue

        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case) -> None:  # noqa: ANN001 - a schemathesis Case
            case.call_and_validate(headers=headers, checks=CHECKS, excluded_checks=EXCLUDED)

        try:
            check()
        except Unsatisfiable:  # negative mode: an operation without parameters has no invalid input
            continue
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    with api_server.client() as c:  # the run really reached the server, on every operation of ours
        metrics = c.get("/metrics").text
    for path in ("/api/v1/feeds/{source_id}/batches", "/api/v1/datasets/{dataset}/records", "/api/v1/catalog"):
        assert f'route="{path}"' in metrics, path


def test_every_operation_documents_its_errors(api_server: Server) -> None:
    with api_server.client() as c:
        doc = c.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert "200" in codes or "201" in codes, (method, path)
            if path.startswith("/api/v1/") and not path.startswith("/api/v1/open"):
                assert {"401", "403", "422", "429"} <= codes, (method, path, codes)
                assert op.get("security"), (method, path)
            assert op.get("summary"), (method, path)


def test_hostile_cursors_and_filters_get_documented_answers(api_server: Server) -> None:
    """The cases random generation rarely finds (issue 12, row 10): each answered as the document says."""
    from tests.lienthong.api.test_cursor_validation import BAD

    schema = schemathesis.openapi.from_url(f"{api_server.url}/openapi.json")
    operation = schema["/api/v1/datasets/{dataset}/records"]["GET"]
    headers = {"Authorization": f"Bearer {api_server.tokens['fuzz']}"}
    for params, _ in BAD.values():
        for fmt in ("json", "csv", "ndjson"):
            case = operation.Case(path_parameters={"dataset": "members"}, query={**params, "format": fmt})
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            assert response.status_code == 422, (params, fmt)
