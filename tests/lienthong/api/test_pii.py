"""Personal data: a key without ``read:pii`` gets no direct identifier in the clear — name parts included — in JSON,
CSV, NDJSON and the web catalogue download. The list of fields is derived from the contracts' privacy classes, so
a field added later is covered by the same tests (issue 12, row 3)."""

from __future__ import annotations

import csv
import io
import json
import re

import httpx
import pytest

from lienthong.api.records import view_for
from lienthong.open_data.aggregates import OpenTable
from lienthong.open_data.guard import DisclosureError, check_output, check_tables
from lienthong.warehouse.api_keys import verify_token
from schemas import CONTRACTS, FieldKind, MatchRole, Privacy
from tests.lienthong.api.conftest import Server
from tests.lienthong.conftest import GOOD_ROWS, HubFactory, file_source, members_csv

FEED = members_csv(GOOD_ROWS).encode()
# What names, or reaches, one person on its own: the contract must class it a direct identifier.
_NAMING_KINDS = {FieldKind.NAME, FieldKind.ID_NUMBER, FieldKind.PHONE}
_NAMING_ROLES = {MatchRole.FULL_NAME, MatchRole.FAMILY_NAME, MatchRole.MIDDLE_NAME, MatchRole.GIVEN_NAME,
                 MatchRole.ID_NUMBER, MatchRole.PHONE, MatchRole.ADDRESS}


def direct_identifiers(dataset: str) -> list[str]:
    return [f.name for f in CONTRACTS[dataset].fields() if f.privacy is Privacy.DIRECT_IDENTIFIER]


def test_every_name_id_phone_and_address_field_is_classed_a_direct_identifier() -> None:
    misclassed = [f"{ds}.{f.name} ({f.privacy})" for ds, contract in CONTRACTS.items() for f in contract.fields()
                  if (f.kind in _NAMING_KINDS or f.match_role in _NAMING_ROLES)
                  and f.privacy is not Privacy.DIRECT_IDENTIFIER]
    assert misclassed == []
    assert {"full_name", "family_name", "middle_name", "given_name"} <= set(direct_identifiers("members"))


def test_the_view_of_a_key_without_pii_withholds_or_pseudonymises_every_direct_identifier(
        make_hub: HubFactory, tmp_path) -> None:  # noqa: ANN001
    hub = make_hub([file_source(tmp_path, "hlhpn_files")])
    from lienthong.warehouse.api_keys import create_key

    token = create_key(hub.engine, name="portal", scopes=[f"read:{ds}" for ds in CONTRACTS]).token
    key = verify_token(hub.engine, token)
    for dataset in CONTRACTS:
        view = view_for(hub, key, dataset)
        direct = set(direct_identifiers(dataset))
        assert set(view.withheld) | set(view.pseudonymised) == direct, dataset
        assert set(view.fields) & direct <= set(view.pseudonymised), dataset
        assert set(view.pseudonymised) <= {f.name for f in CONTRACTS[dataset].fields()
                                            if f.kind in (FieldKind.ID_NUMBER, FieldKind.PHONE)}, dataset
    hub.engine.dispose()


@pytest.fixture
def published(server: Server) -> Server:
    with server.client("hlhpn") as c:
        c.post("/api/v1/feeds/hlhpn_push/batches", content=FEED, params={"wait": "true"},
               headers={"Content-Type": "text/csv"}).raise_for_status()
    return server


def _records(body: str, fmt: str) -> list[dict]:
    if fmt == "json":
        return json.loads(body)["records"]
    if fmt == "ndjson":
        return [json.loads(line) for line in body.splitlines() if line]
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


def _assert_no_identifier_in_clear(clear: list[dict], seen: list[dict], pseudonymised: set[str]) -> None:
    direct = direct_identifiers("members")
    assert len(seen) == len(clear) == len(GOOD_ROWS)
    secrets = {str(r[f]) for r in clear for f in direct if r.get(f) not in (None, "")}
    assert {"Hoà", "Hòa", "Nguyễn", "Thị"} & secrets  # the name parts are among what must not be seen
    for record in seen:
        for name in direct:
            if name in pseudonymised:
                continue
            assert name not in record, name
        leaked = {k: v for k, v in record.items() if str(v) in secrets}
        assert leaked == {}


@pytest.mark.integration
@pytest.mark.parametrize("fmt", ["json", "csv", "ndjson"])
def test_a_key_without_pii_sees_no_direct_identifier_in_any_format(published: Server, fmt: str) -> None:
    with published.client("portal_pii") as c:
        clear = c.get("/api/v1/datasets/members/records", params={"format": "json"}).json()["records"]
    with published.client("portal") as c:
        r = c.get("/api/v1/datasets/members/records", params={"format": fmt})
    assert r.status_code == 200
    if fmt == "json":
        withheld, pseudonymised = set(r.json()["withheld"]), set(r.json()["pseudonymised"])
    else:
        withheld = set(filter(None, r.headers["X-Withheld-Fields"].split(",")))
        pseudonymised = set(filter(None, r.headers["X-Pseudonymised-Fields"].split(",")))
    assert {"family_name", "middle_name", "given_name", "full_name", "address"} <= withheld
    assert withheld | pseudonymised == set(direct_identifiers("members"))
    _assert_no_identifier_in_clear(clear, _records(r.text, fmt), pseudonymised)


def sign_in(client: httpx.Client, token: str) -> None:
    """Sign in through the form, as a browser does (the form token comes with the page)."""
    page = client.get("/sign-in")
    form_token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/sign-in", data={"token": token, "next": "/catalogue", "form_token": form_token})
    assert r.status_code == 303, r.text


@pytest.mark.integration
def test_the_web_catalogue_download_withholds_name_parts_too(published: Server) -> None:
    with published.client("portal_pii") as c:
        clear = c.get("/api/v1/datasets/members/records", params={"format": "json"}).json()["records"]
    with httpx.Client(base_url=published.url, timeout=60) as web:
        sign_in(web, published.tokens["portal"])
        r = web.get("/catalogue/members/records.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    pseudonymised = set(filter(None, r.headers["X-Pseudonymised-Fields"].split(",")))
    _assert_no_identifier_in_clear(clear, _records(r.text, "csv"), pseudonymised)


def test_open_data_refuses_name_parts(make_hub: HubFactory, tmp_path) -> None:  # noqa: ANN001
    hub = make_hub([file_source(tmp_path, "hlhpn_files")])
    with pytest.raises(DisclosureError, match="given_name"):
        check_output(hub.engine, "members", ["province_code", "given_name", "count"], [])
    with pytest.raises(DisclosureError, match="family_name"):
        check_tables([OpenTable("nguyen_by_province", "members", ("province",), "", "", "", "",
                                where={"family_name": "Nguyễn"})])
    hub.engine.dispose()
