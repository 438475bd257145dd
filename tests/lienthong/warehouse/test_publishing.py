"""Publish is atomic: a failure in the middle leaves the previous published version intact."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from lienthong.pipeline import publish_all, sync_source
from lienthong.warehouse.queries import batches
from lienthong.warehouse.tables import PUBLISHED
from tests.lienthong.conftest import GOOD_ROWS, file_source, members_csv

FAIL_ON_LAN = """
CREATE FUNCTION fail_on_lan() RETURNS trigger AS $$
BEGIN
  IF NEW.given_name = 'Lan' THEN RAISE EXCEPTION 'injected failure while publishing %', NEW.record_key; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fail_on_lan BEFORE INSERT OR UPDATE ON pub_members FOR EACH ROW EXECUTE FUNCTION fail_on_lan();
"""


@pytest.mark.integration
def test_a_failure_mid_publish_leaves_the_previous_version_intact(make_hub, pg_url, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "v1.csv").write_text(members_csv(GOOD_ROWS[:1]), encoding="utf-8")
    hub = make_hub([file_source(folder)], pg_url)
    sync_source(hub, hub.source("hlhpn_files"))
    publish_all(hub, ["members"])
    pub = PUBLISHED["members"]
    with hub.engine.connect() as conn:
        v1 = [dict(r) for r in conn.execute(select(pub).order_by(pub.c.record_key)).mappings()]

    # v2 changes HV001 (written first, since it sorts first) and adds HV002, on which the database fails.
    (folder / "v2.csv").write_text(
        members_csv([GOOD_ROWS[0].replace("0912345678", "0987654321"), GOOD_ROWS[1]]), encoding="utf-8"
    )
    sync_source(hub, hub.source("hlhpn_files"))
    with hub.engine.begin() as conn:
        conn.execute(text(FAIL_ON_LAN))
    with pytest.raises(DBAPIError, match="injected failure"):
        publish_all(hub, ["members"])

    with hub.engine.connect() as conn:
        assert [dict(r) for r in conn.execute(select(pub).order_by(pub.c.record_key)).mappings()] == v1
    assert [b["status"] for b in batches(hub.engine)] == ["published", "staged"], "v2 waits, still staged"

    with hub.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER fail_on_lan ON pub_members"))
    [p] = publish_all(hub, ["members"])
    assert (p.rows_inserted, p.rows_updated) == (1, 1)
