"""Reading published records for a caller: which rows and fields its key may see, in keyset order.

Order and cursor: ``(published_seq, record_key)``, the index every ``pub_<dataset>`` table has. A record that
changes gets the seq of the publication that changed it, so it moves behind any cursor already handed out and a
consumer asking ``since=<its last cursor>`` sees it again — changes and deletions (tombstones) included. Seqs of
one dataset commit in order (publishing holds a per-dataset lock), so nothing can appear behind a cursor later.

Who sees what (docs/api.md, "Scopes"):
- an organisation's key sees only its organisation's records, in full (they are its own members);
- a key without an organisation sees every organisation's records; without ``read:pii`` (or ``admin``) direct
  identifiers are withheld, except ID number and phone, which come as keyed HMAC pseudonyms so consumers can
  still join on them (or are withheld too when no pseudonym key is configured).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Select, select, tuple_

from lienthong.api.errors import ApiError
from lienthong.hub import Hub
from lienthong.match import MATCHED_DATASETS
from lienthong.warehouse.api_keys import ApiKey
from lienthong.warehouse.tables import PUBLISHED
from lienthong.warehouse.tables_match import match_link
from schemas import FieldKind, Privacy, get_contract

META = ["record_key", "source_id", "version", "updated_at", "deleted"]
FILTERS = ("province_code", "ward_code", "organisation")  # catalogued fields a consumer may filter on
_PSEUDONYMISED_KINDS = (FieldKind.ID_NUMBER, FieldKind.PHONE)


MAX_SEQ = 2**63 - 1  # published_seq is a BIGINT: a larger number reaching the database is its error, not ours
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # NUL and other control characters: in no code, key or cursor we give


@dataclass(frozen=True)
class Cursor:
    seq: int
    key: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.seq}:{self.key}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor ``text`` stands for, checked before any query sees it.

        Raises:
            ApiError: 422 ``invalid_cursor`` — not base64 of ``<seq>:<key>``, a seq out of BIGINT range, or a key
                with NUL or another control character.
        """
        try:
            seq, key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8").split(":", 1)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _bad_cursor(text, "it is not one this API gave out", "không phải con trỏ do API trả về") from None
        if not (seq.isascii() and seq.isdigit()) or int(seq) > MAX_SEQ:
            raise _bad_cursor(text, f"its position must be a whole number from 0 to {MAX_SEQ}",
                              "vị trí trong con trỏ nằm ngoài phạm vi cho phép")
        if _CONTROL.search(key):
            raise _bad_cursor(text, "its record key holds a NUL or control character",
                              "khóa bản ghi trong con trỏ chứa ký tự điều khiển (NUL)")
        return cls(int(seq), key)


def _bad_cursor(text: str, why_en: str, why_vi: str) -> ApiError:
    return ApiError(422, "invalid_cursor", f"`since` {text[:40]!r} is not a valid cursor: {why_en}; pass the "
                    "`next` or `cursor` value of an earlier response, or omit `since` to start from the beginning",
                    f"Tham số `since` không hợp lệ: {why_vi}. Hãy dùng giá trị `next` của lần đọc trước, "
                    "hoặc bỏ `since` để đọc từ đầu")


def check_filter(name: str, value: str) -> str:
    """``value`` of the filter ``name``, refused when it holds NUL or another control character (PostgreSQL
    cannot even compare such text, and no code holds one).

    Raises:
        ApiError: 422 ``invalid_filter``.
    """
    if _CONTROL.search(value):
        raise ApiError(422, "invalid_filter", f"filter {name} holds a NUL or control character; codes never do",
                       f"Bộ lọc {name} chứa ký tự điều khiển (NUL): hãy dùng một mã của danh mục")
    return value


@dataclass(frozen=True)
class View:
    """The rows and fields of one dataset a key may see."""

    dataset: str
    fields: list[str]  # contract fields returned, in contract order
    pseudonymised: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    organisation: str | None = None  # rows restricted to this organisation
    org_sources: tuple[str, ...] | None = None  # ... through these sources, when the dataset has no such field
    pseudonym_key: tuple[bytes, str] | None = None
    entity_ids: bool = False  # each record also carries its match entity (``entity_id``; null until matched)

    @property
    def columns(self) -> list[str]:
        return META + self.fields + (["entity_id"] if self.entity_ids else [])

    def describe(self) -> dict[str, Any]:
        return {"organisation": self.organisation, "pseudonymised": self.pseudonymised, "withheld": self.withheld}


def view_for(hub: Hub, key: ApiKey, dataset: str, *, entity_ids: bool = False) -> View:
    """What ``key`` may see of ``dataset`` (the caller has checked ``read:<dataset>``).

    Args:
        hub: the opened hub.
        key: the caller's key.
        dataset: the dataset read.
        entity_ids: add each record's ``entity_id`` (datasets of people that are matched, else ignored).
    """
    view = _view_for(hub, key, dataset)
    if entity_ids and dataset in MATCHED_DATASETS:
        view = replace(view, entity_ids=True)
    return view


def _view_for(hub: Hub, key: ApiKey, dataset: str) -> View:
    contract = get_contract(dataset)
    specs = contract.fields()
    org = None if key.is_admin() else key.organisation
    org_sources = None
    if org and "organisation" not in contract.field_names():
        org_sources = tuple(sorted(s.id for s in hub.sources.values() if s.organisation == org))
    if org or key.sees_pii():
        return View(dataset, [f.name for f in specs], organisation=org, org_sources=org_sources)
    pkey = _pseudonym_key(hub)
    shown, pseudo, withheld = [], [], []
    for f in specs:
        if f.privacy is not Privacy.DIRECT_IDENTIFIER:
            shown.append(f.name)
        elif f.kind in _PSEUDONYMISED_KINDS and pkey is not None:
            shown.append(f.name)
            pseudo.append(f.name)
        else:
            withheld.append(f.name)
    return View(dataset, shown, pseudo, withheld, pseudonym_key=pkey)


def _pseudonym_key(hub: Hub) -> tuple[bytes, str] | None:
    try:
        from lienthong.pseudonymise import key_from_settings
    except ImportError:  # the open-data room not there: withhold rather than expose
        return None
    if hub.settings.pseudonym_key is None:
        return None
    return key_from_settings(hub.settings)


def records_query(view: View, *, since: Cursor | None, filters: dict[str, str], limit: int | None) -> Select:
    """The keyset query: rows after ``since`` (tombstones included then), filtered, in cursor order."""
    table = PUBLISHED[view.dataset]
    if view.entity_ids:  # the record's entity, from the match links (kept current through merges and splits)
        link = match_link
        q = (select(*[table.c[c] for c in META + view.fields], link.c.entity_id, table.c.published_seq)
             .select_from(table.outerjoin(link, (link.c.dataset == view.dataset)
                                          & (link.c.record_key == table.c.record_key))))
    else:
        q = select(*[table.c[c] for c in view.columns], table.c.published_seq)
    if since is None:
        q = q.where(~table.c.deleted)
    else:
        q = q.where(tuple_(table.c.published_seq, table.c.record_key) > tuple_(since.seq, since.key))
    if view.organisation and view.org_sources is None:
        q = q.where(table.c.organisation == view.organisation)
    elif view.org_sources is not None:
        q = q.where(table.c.source_id.in_(view.org_sources))
    for name, value in filters.items():
        if name not in table.c:
            raise ApiError(422, "invalid_filter", f"dataset {view.dataset} has no field {name} to filter on",
                           f"Bộ dữ liệu {view.dataset} không có trường {name} để lọc")
        q = q.where(table.c[name] == value)
    q = q.order_by(table.c.published_seq, table.c.record_key)
    return q.limit(limit) if limit is not None else q


def stream_rows(conn: Connection, query: Select, view: View, chunk: int = 5000) -> Iterator[list[dict[str, Any]]]:
    """Chunks of output records from a server-side cursor (``stream_results``): memory stays one chunk."""
    result = conn.execute(query.execution_options(stream_results=True, max_row_buffer=chunk, yield_per=chunk))
    try:
        for part in result.partitions(chunk):
            yield shape(part, view)
    finally:
        result.close()


def shape(rows: list, view: View) -> list[dict[str, Any]]:
    """Rows → output records: tombstones keep only the meta fields, pseudonymised fields get their tokens."""
    columns, n_meta, deleted_at = view.columns, len(META), META.index("deleted")
    out = []
    for row in rows:  # by position, not ``row._mapping``: this loop runs once per record served
        rec = dict(zip(columns[:n_meta] if row[deleted_at] else columns, row, strict=False))
        seq, key = row[-1], row[0]
        rec["cursor"] = base64.urlsafe_b64encode(f"{seq}:{key}".encode()).decode().rstrip("=")
        out.append(rec)
    return pseudonymised(out, view)


def shape_values(values: dict[str, Any], view: View) -> dict[str, Any]:
    """A mapping of contract fields (a golden record) as ``view`` shows them: withheld fields left out,
    pseudonymised ones as their tokens — what a record of the same key would show."""
    (out,) = pseudonymised([{k: v for k, v in values.items() if k in view.fields}], view)
    return out


def pseudonymised(records: list[dict[str, Any]], view: View) -> list[dict[str, Any]]:
    """``records`` with the view's pseudonymised fields replaced by their tokens (in place)."""
    if view.pseudonymised and view.pseudonym_key and records:
        from lienthong.pseudonymise import pseudonymise

        key, key_id = view.pseudonym_key
        for name in view.pseudonymised:
            live = [r for r in records if name in r]
            tokens = pseudonymise([r[name] for r in live], key=key, key_id=key_id)
            for r, t in zip(live, tokens, strict=True):
                r[name] = t
    return records
