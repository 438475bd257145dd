"""The API push door verifies like every door: the pusher is who triggered the audited queries, and the batch
report tells the clerk (in Vietnamese) when the population database could not be asked."""

from __future__ import annotations

import pytest

from lienthong.demo.population_db import serve_population_db
from lienthong.warehouse.audit import AuditQuery, query_audit
from tests.lienthong.conftest import members_csv
from tests.lienthong.stages.test_verify import PURPOSE, _register, _rows

pytestmark = pytest.mark.integration
UPLOAD = "/api/v1/feeds/hlhpn_push/batches"


def test_a_pushed_batch_is_verified_and_a_down_service_is_said_to_the_clerk(start_server, monkeypatch) -> None:
    with serve_population_db(_register(10)) as population:
        monkeypatch.setenv("TEST_DANCU_KEY", population.access_key)
        monkeypatch.setenv("TEST_DANCU_SECRET", population.secret)
        verify = {"service": "population", "purpose": PURPOSE, "url": population.verify_url, "max_retries": 1,
                  "backoff_s": 0.05, "token": {"url": population.token_url, "app_name": population.app_name,
                                               "access_key_env": "TEST_DANCU_KEY",
                                               "secret_key_env": "TEST_DANCU_SECRET"}}
        server = start_server(source_overrides={"verify": verify})
        server.key("hlhpn", "push:hlhpn_push", organisation="HLHPN")
        with server.client("hlhpn") as c:
            first = c.post(UPLOAD, content=members_csv(_rows(5)).encode(), params={"wait": "true"},
                           headers={"Content-Type": "text/csv"}).json()
            assert first["status"] == "published"
            assert first["verification"] == {"match": 1, "mismatch": 3, "not_found": 1, "pending": 0,
                                             "message": None, "message_vi": None}
            (entry,) = query_audit(server.hub.engine, AuditQuery(action="population.verify"))
            assert entry["actor"].startswith("key:") and entry["detail"]["purpose"] == PURPOSE

            population.db.down = True
            second = c.post(UPLOAD, content=members_csv(_rows(8)[5:]).encode(), params={"wait": "true"},
                            headers={"Content-Type": "text/csv"}).json()
        assert second["status"] == "published", "verify.required is false: published unverified"
        assert second["verification"]["pending"] == 3
        assert "chưa được đối chiếu" in second["verification"]["message_vi"]
