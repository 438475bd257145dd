"""OData v4 read access to the published datasets (TT 39/2017/TT-BTTTT recommends OData v4 for data sharing).

``/odata/v4/`` answers the service document, ``$metadata`` (CSDL XML) and one entity set per dataset contract,
with ``$select``, ``$filter``, ``$orderby``, ``$top``, ``$skip``, ``$count`` and server-driven paging
(``@odata.nextLink`` carrying a keyset ``$skiptoken``). It is another door onto the same job as
``/api/v1/datasets/{dataset}/records``: the key's view (:func:`view_for`: scopes, organisation limit,
pseudonymised and withheld fields), the query (:func:`records_query`), the output records (:func:`shape`) and
the audit entry written in the reading transaction (ADR 10) are the REST API's own.

What a key may not see it may not ask about either: ``$metadata`` lists only the datasets and fields the key
reads; a withheld field cannot be selected, filtered or ordered, and a pseudonymised one (returned as a token)
can be selected but not filtered or ordered, since a filter on the raw value would answer "is this ID number
here?" — an oracle. Filters are parsed by the ``odata-query`` library into SQLAlchemy expressions over a
whitelist of columns, operators and functions; values are bound parameters, never SQL text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from odata_query import ast as odata_ast
from odata_query import exceptions as odata_errors
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy import AstToSqlAlchemyCoreVisitor
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select

from lienthong.api.auth import Caller, Context, require_read
from lienthong.api.encoders import json_value
from lienthong.api.errors import ApiError
from lienthong.api.records import META, View, records_query, shape, view_for
from lienthong.warehouse.audit import append_audit
from lienthong.warehouse.tables import PUBLISHED
from schemas import CONTRACTS, FieldKind, get_contract

PREFIX = "/odata/v4"
NAMESPACE = "LienThong"
PAGE_DEFAULT, PAGE_MAX = 1000, 10_000
EDMX, EDM = "http://docs.oasis-open.org/odata/ns/edmx", "http://docs.oasis-open.org/odata/ns/edm"
VOCABULARIES = {  # alias -> (namespace, the OASIS vocabulary document)
    "Core": ("Org.OData.Core.V1",
             "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"),
    "Capabilities": ("Org.OData.Capabilities.V1",
                     "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml"),
}
EDM_TYPES = {FieldKind.DATE: "Edm.Date", FieldKind.DATETIME: "Edm.DateTimeOffset", FieldKind.INTEGER: "Edm.Int64",
             FieldKind.MONEY: "Edm.Int64", FieldKind.BOOLEAN: "Edm.Boolean"}  # every other kind: Edm.String
META_TYPES = {"record_key": "Edm.String", "source_id": "Edm.String", "version": "Edm.Int64",
              "updated_at": "Edm.DateTimeOffset"}
SUPPORTED = {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$skiptoken", "$format"}
FUNCTIONS = {"contains", "startswith", "endswith"}
_HEADERS = {"OData-Version": "4.0"}
_JSON_MEDIA = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false"
_SEGMENT = re.compile(r"^(?P<set>[A-Za-z_][A-Za-z0-9_]*)(?:\('(?P<key>(?:[^']|'')*)'\))?$")


class ODataError(ApiError):
    """A refusal in the OData JSON error format (OData JSON Format v4.0, section 21)."""


def odata_error_response(exc: ApiError) -> JSONResponse:
    """``{"error": {"code", "message", "target"?, "details"?, "innererror": {"message_vi"}}}``."""
    error: dict[str, Any] = {"code": exc.error, "message": exc.message}
    if exc.details:
        error["details"] = exc.details
    error["innererror"] = {"message_vi": exc.message_vi}
    return JSONResponse({"error": error}, status_code=exc.status, headers={**_HEADERS, **(exc.headers or {})})


class ODataRoute(APIRoute):
    """Routes whose every refusal — authentication, scope, rate, parameters — is an OData error document."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return odata_error_response(exc)
            except RequestValidationError as exc:
                return odata_error_response(ApiError(400, "invalid_request", str(exc.errors()[:3]),
                                                     "Yêu cầu OData không hợp lệ"))

        return route


router = APIRouter(prefix=PREFIX, tags=["odata"], route_class=ODataRoute)


def _bad(code: str, message: str, message_vi: str, status: int = 400) -> ODataError:
    return ODataError(status, code, message, message_vi)


# --- $metadata -------------------------------------------------------------------------------------------------

def entity_type_name(dataset: str) -> str:
    """The entity type of a dataset: its contract's class name (``Member``, ``Feedback``, ``Relief``)."""
    return get_contract(dataset).__name__


def csdl(views: list[View]) -> bytes:
    """The CSDL XML document of the entity sets the key may read, with exactly the fields it may see."""
    ET.register_namespace("edmx", EDMX)
    root = ET.Element(f"{{{EDMX}}}Edmx", Version="4.0")
    for alias, (namespace, uri) in VOCABULARIES.items():
        ref = ET.SubElement(root, f"{{{EDMX}}}Reference", Uri=uri)
        ET.SubElement(ref, f"{{{EDMX}}}Include", Namespace=namespace, Alias=alias)
    services = ET.SubElement(root, f"{{{EDMX}}}DataServices")
    schema = ET.SubElement(services, f"{{{EDM}}}Schema", Namespace=NAMESPACE)
    container = ET.Element(f"{{{EDM}}}EntityContainer", Name="Container")
    for view in views:
        contract = get_contract(view.dataset)
        etype = ET.SubElement(schema, f"{{{EDM}}}EntityType", Name=contract.__name__)
        ET.SubElement(ET.SubElement(etype, f"{{{EDM}}}Key"), f"{{{EDM}}}PropertyRef", Name="record_key")
        for name in META:
            if name != "deleted":
                ET.SubElement(etype, f"{{{EDM}}}Property", Name=name, Type=META_TYPES[name],
                              Nullable="false")
        for spec in contract.fields():
            if spec.name not in view.fields:
                continue
            attrs = {"Name": spec.name, "Type": EDM_TYPES.get(spec.kind, "Edm.String")}
            if spec.max_length and spec.name not in view.pseudonymised:
                attrs["MaxLength"] = str(spec.max_length)
            prop = ET.SubElement(etype, f"{{{EDM}}}Property", attrs)
            note = f"{spec.label_vi}. {spec.description}"
            if spec.name in view.pseudonymised:
                note += " Pseudonymised for this key: a keyed HMAC token, not the value; not filterable."
            ET.SubElement(prop, f"{{{EDM}}}Annotation", Term="Core.Description", String=note)
        entity_set = ET.SubElement(container, f"{{{EDM}}}EntitySet", Name=view.dataset,
                                   EntityType=f"{NAMESPACE}.{contract.__name__}")
        ET.SubElement(entity_set, f"{{{EDM}}}Annotation", Term="Core.Description",
                      String=f"{contract.title_vi} / {contract.title_en}")
        for term, prop_name in (("FilterRestrictions", "NonFilterableProperties"),
                                ("SortRestrictions", "NonSortableProperties")):
            if view.pseudonymised:
                record = ET.SubElement(ET.SubElement(entity_set, f"{{{EDM}}}Annotation",
                                                     Term=f"Capabilities.{term}"), f"{{{EDM}}}Record")
                collection = ET.SubElement(ET.SubElement(record, f"{{{EDM}}}PropertyValue", Property=prop_name),
                                           f"{{{EDM}}}Collection")
                for name in view.pseudonymised:
                    ET.SubElement(collection, f"{{{EDM}}}PropertyPath").text = name
    schema.append(container)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# --- $filter, $select, $orderby ---------------------------------------------------------------------------------

class _Fields:
    """What a query option may name: selectable (all the key sees) and queryable (filter/order: not tokens)."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.selectable = [c for c in view.columns if c != "deleted"]
        self.queryable = {c for c in self.selectable if c not in view.pseudonymised}

    def check(self, name: str, option: str, *, query: bool) -> None:
        if name in (self.queryable if query else self.selectable):
            return
        if name in self.view.pseudonymised:
            raise _bad("pseudonymised_property",
                       f"{option}: {name} is pseudonymised for this key and cannot be filtered or ordered on "
                       "(a filter on the real value would reveal it); select it to receive its token",
                       f"{option}: trường {name} được mã hóa giả danh với khóa này, không thể lọc hay sắp xếp")
        if name in self.view.withheld:
            raise _bad("withheld_property",
                       f"{option}: {name} is withheld from this key (it needs the read:pii scope)",
                       f"{option}: trường {name} không được cung cấp cho khóa này (cần quyền read:pii)")
        raise _bad("unknown_property", f"{option}: the entity set {self.view.dataset} has no property {name!r}",
                   f"{option}: tập {self.view.dataset} không có thuộc tính {name!r}")


class _FilterToSql(AstToSqlAlchemyCoreVisitor):
    """odata-query's SQLAlchemy Core transpiler, limited to the key's queryable columns and a few functions."""

    def __init__(self, table: Any, fields: _Fields) -> None:  # noqa: ANN401 - a SQLAlchemy Table
        super().__init__(table)
        self.fields = fields

    def visit_Identifier(self, node: odata_ast.Identifier) -> Any:  # noqa: N802, ANN401 - the library's names
        self.fields.check(node.name, "$filter", query=True)
        return self.table.c[node.name]

    def visit_BinOp(self, node: odata_ast.BinOp) -> Any:  # noqa: N802, ANN401
        raise _bad("not_implemented", "$filter: arithmetic (add, sub, mul, div, mod) is not supported",
                   "$filter: không hỗ trợ phép tính số học", status=501)

    def visit_Call(self, node: odata_ast.Call) -> Any:  # noqa: N802, ANN401
        name = node.func.name.lower()
        if name not in FUNCTIONS:
            raise _bad("not_implemented", f"$filter: function {node.func.name} is not supported; "
                       f"supported: {', '.join(sorted(FUNCTIONS))}",
                       f"$filter: không hỗ trợ hàm {node.func.name}", status=501)
        if len(node.args) != 2 or not isinstance(node.args[0], odata_ast.Identifier) \
                or not isinstance(node.args[1], odata_ast.String):
            raise _bad("invalid_filter", f"$filter: {name}(property, 'text') takes a property and a string",
                       f"$filter: hàm {name} cần một thuộc tính và một chuỗi")
        column = self.visit(node.args[0])
        # autoescape: a % or _ the client sends is a character to find, not a LIKE wildcard
        method = {"contains": column.contains, "startswith": column.startswith, "endswith": column.endswith}[name]
        return method(node.args[1].py_val, autoescape=True)


def parse_filter(text: str, table: Any, fields: _Fields) -> ColumnElement[bool]:  # noqa: ANN401
    """``$filter`` → a SQLAlchemy boolean expression, or a 400 naming what is wrong."""
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
        return _FilterToSql(table, fields).visit(tree)
    except ODataError:
        raise
    except (odata_errors.ODataException, NotImplementedError, TypeError, ValueError) as exc:
        raise _bad("invalid_filter", f"$filter {text[:200]!r} is not understood: {exc}",
                   f"Biểu thức $filter không hợp lệ: {text[:200]!r}") from None


def parse_select(text: str | None, fields: _Fields) -> list[str]:
    if not text or text.strip() == "*":
        return list(fields.selectable)
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        fields.check(name, "$select", query=False)
    return [n for n in fields.selectable if n in names]


def parse_orderby(text: str | None, fields: _Fields) -> list[tuple[str, bool]]:
    """``$orderby`` → [(column, descending)]; ``record_key`` always ends the list so the order is total."""
    out: list[tuple[str, bool]] = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise _bad("invalid_orderby", f"$orderby: {part.strip()!r} is not 'property [asc|desc]'",
                       f"$orderby không hợp lệ: {part.strip()!r}")
        fields.check(words[0], "$orderby", query=True)
        out.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    if "record_key" not in {name for name, _ in out}:
        out.append(("record_key", False))
    return out


# --- paging: a keyset $skiptoken over the $orderby columns --------------------------------------------------------
# Nulls sort first ascending and last descending (null is the smallest value) on SQLite and PostgreSQL alike,
# so "after this row" is one predicate on both.

def _order_clauses(table: Any, order: list[tuple[str, bool]]) -> list[Any]:  # noqa: ANN401
    return [table.c[n].desc().nulls_last() if desc else table.c[n].asc().nulls_first() for n, desc in order]


def _after(table: Any, order: list[tuple[str, bool]], values: list[Any]) -> ColumnElement[bool]:  # noqa: ANN401
    """Rows strictly after ``values`` in ``order`` (lexicographic, nulls smallest)."""
    alternatives, equal_so_far = [], []
    for (name, desc), value in zip(order, values, strict=True):
        col = table.c[name]
        if value is None:
            beyond = false() if desc else col.is_not(None)
            same = col.is_(None)
        else:
            beyond = or_(col < value, col.is_(None)) if desc else col > value
            same = col == value
        alternatives.append(and_(*equal_so_far, beyond) if equal_so_far else beyond)
        equal_so_far.append(same)
    return or_(*alternatives)


def encode_token(values: list[Any]) -> str:
    tagged = [["d", v.isoformat()] if isinstance(v, date) and not isinstance(v, datetime)
              else ["t", v.isoformat()] if isinstance(v, datetime) else ["v", v] for v in values]
    return base64.urlsafe_b64encode(json.dumps(tagged, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(text: str, width: int) -> list[Any]:
    try:
        tagged = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        values = [date.fromisoformat(v) if t == "d" else datetime.fromisoformat(v) if t == "t" else v
                  for t, v in tagged]
        if len(values) != width:
            raise ValueError("width")
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise _bad("invalid_skiptoken", "$skiptoken is not one this service gave out for this $orderby",
                   "$skiptoken không phải do dịch vụ này trả về") from None


# --- the endpoints ------------------------------------------------------------------------------------------------

def _json(body: dict[str, Any], **headers: str) -> Response:
    text = json.dumps(body, ensure_ascii=False, default=json_value, separators=(",", ":"))
    return Response(text.encode(), media_type=_JSON_MEDIA, headers={**_HEADERS, **headers})


def _readable(key: Any) -> list[str]:  # noqa: ANN401 - an ApiKey
    return [d for d in CONTRACTS if key.can_read(d)]


@router.get("/", summary="OData service document: the entity sets this key may read")
def service_document(request: Request, key: Caller) -> Response:
    base = str(request.url_for("service_metadata")).removesuffix("/$metadata")
    return _json({"@odata.context": f"{base}/$metadata",
                  "value": [{"name": d, "kind": "EntitySet", "url": d} for d in _readable(key)]})


@router.get("/$metadata", name="service_metadata", summary="CSDL XML: entity types as this key sees them")
def service_metadata(request: Request, key: Caller, ctx: Context) -> Response:
    fmt = request.query_params.get("$format", "xml")
    if fmt not in ("xml", "application/xml"):
        raise _bad("not_implemented", "$metadata is served as CSDL XML only", "$metadata chỉ có dạng XML", 501)
    views = [view_for(ctx.hub, key, d) for d in _readable(key)]
    return Response(csdl(views), media_type="application/xml", headers=_HEADERS)


@router.get("/{segment}/$count", summary="The number of entities matching $filter, as plain text")
def entity_count(segment: str, request: Request, key: Caller, ctx: Context) -> Response:
    dataset, _ = _resolve(segment, key)
    view = view_for(ctx.hub, key, dataset)
    fields = _Fields(view)
    query, options = _base_query(view, fields, request, allowed={"$filter", "$format"})
    with ctx.hub.engine.begin() as conn:
        count = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        _audit(conn, key, view, request, options, records=0, action="records.count")
    return Response(str(count), media_type="text/plain", headers=_HEADERS)


@router.get("/{segment}", summary="An entity set (or one entity by key) with $select/$filter/$orderby/paging")
def entity_set(segment: str, request: Request, key: Caller, ctx: Context) -> Response:
    dataset, record_key = _resolve(segment, key)
    view = view_for(ctx.hub, key, dataset)
    fields = _Fields(view)
    query, options = _base_query(view, fields, request, allowed=SUPPORTED)
    table = PUBLISHED[dataset]
    selected = parse_select(options.get("$select"), fields)
    base = str(request.url_for("service_metadata")).removesuffix("/$metadata")
    context = f"{base}/$metadata#{dataset}" + (f"({','.join(selected)})" if "$select" in options else "")
    if record_key is not None:
        with ctx.hub.engine.begin() as conn:
            rows = conn.execute(query.where(table.c.record_key == record_key).limit(1)).all()
            _audit(conn, key, view, request, options, records=len(rows))
        if not rows:
            raise _bad("not_found", f"{dataset} has no entity {record_key!r} this key may read",
                       f"Không có bản ghi {record_key!r} trong {dataset}", 404)
        return _json({"@odata.context": f"{context}/$entity", **_entity(shape(rows, view)[0], selected, dataset)})

    order = parse_orderby(options.get("$orderby"), fields)
    top = _non_negative(options, "$top")
    skip = _non_negative(options, "$skip") or 0
    page = min(_max_page_size(request), top) if top is not None else _max_page_size(request)
    paged = query.order_by(None).order_by(*_order_clauses(table, order))
    token = options.get("$skiptoken")
    if token:
        paged = paged.where(_after(table, order, decode_token(token, len(order))))
    elif skip:
        paged = paged.offset(skip)
    with ctx.building_page(), ctx.hub.engine.begin() as conn:
        rows = conn.execute(paged.limit(page + 1)).all() if page else []
        count = None
        if options.get("$count", "false").lower() == "true":
            count = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        records = shape(rows[:page], view)
        _audit(conn, key, view, request, options, records=len(records))
    ctx.metrics.inc("records_served_total", len(records), dataset=dataset, format="odata")
    body: dict[str, Any] = {"@odata.context": context}
    if count is not None:
        body["@odata.count"] = count
    body["value"] = [_entity(r, selected, dataset) for r in records]
    headers = {}
    if "odata.maxpagesize" in request.headers.get("Prefer", ""):
        headers["Preference-Applied"] = f"odata.maxpagesize={_max_page_size(request)}"
    remaining = None if top is None else top - len(records)
    if len(rows) > page and (remaining is None or remaining > 0):
        last = records[-1]
        nxt = {k: v for k, v in options.items() if k not in ("$skip", "$skiptoken", "$top")}
        if remaining is not None:
            nxt["$top"] = str(remaining)
        nxt["$skiptoken"] = encode_token([last[name] for name, _ in order])
        body["@odata.nextLink"] = f"{base}/{dataset}?{urlencode(nxt, quote_via=quote, safe='$,')}"
    return _json(body, **headers)


@router.get("/{rest:path}", include_in_schema=False)
def unknown_path(rest: str, key: Caller) -> Response:
    raise _bad("not_found", f"no OData resource {rest!r}; entity sets: {', '.join(_readable(key))}",
               f"Không có tài nguyên OData {rest!r}", 404)


def _resolve(segment: str, key: Any) -> tuple[str, str | None]:  # noqa: ANN401 - an ApiKey
    """``members`` or ``members('hlhpn_push:HV001')`` → (dataset, record key), after the read scope check."""
    m = _SEGMENT.match(segment)
    if not m or m["set"] not in CONTRACTS:
        raise _bad("not_found", f"no entity set {segment!r}; known: {', '.join(sorted(CONTRACTS))}",
                   f"Không có tập thực thể {segment!r}", 404)
    require_read(key, m["set"])
    return m["set"], None if m["key"] is None else m["key"].replace("''", "'")


def _base_query(view: View, fields: _Fields, request: Request, *, allowed: set[str]) -> tuple[Select, dict]:
    """The REST API's query of the key's live records, narrowed by ``$filter``; the checked options."""
    options = dict(request.query_params)
    unknown = sorted(k for k in options if k.startswith("$") and k not in allowed)
    if unknown:
        raise _bad("not_implemented", f"query option(s) {', '.join(unknown)} are not supported here; supported: "
                   f"{', '.join(sorted(allowed))}", f"Không hỗ trợ tham số {', '.join(unknown)}", 501)
    if options.get("$format", "json") not in ("json", "application/json"):
        raise _bad("not_implemented", "only $format=json is served", "Chỉ hỗ trợ $format=json", 501)
    query = records_query(view, since=None, filters={}, limit=None)
    if options.get("$filter"):
        query = query.where(parse_filter(options["$filter"], PUBLISHED[view.dataset], fields))
    return query, options


def _non_negative(options: dict[str, str], name: str) -> int | None:
    if name not in options:
        return None
    text = options[name]
    if not text.isdigit():
        raise _bad("invalid_request", f"{name} must be a non-negative integer, not {text[:20]!r}",
                   f"{name} phải là số nguyên không âm")
    return int(text)


def _max_page_size(request: Request) -> int:
    """The page size: ``Prefer: odata.maxpagesize=N`` when the client sends it (at most 10,000), else 1000."""
    m = re.search(r"odata\.maxpagesize\s*=\s*(\d+)", request.headers.get("Prefer", ""))
    return max(1, min(int(m[1]), PAGE_MAX)) if m else PAGE_DEFAULT


def _entity(record: dict[str, Any], selected: list[str], dataset: str) -> dict[str, Any]:
    out = {name: _value(record.get(name)) for name in selected}
    if "record_key" not in selected:  # minimal metadata: the id, when the key property was not selected
        out["@odata.id"] = f"{dataset}('{record['record_key'].replace(chr(39), chr(39) * 2)}')"
    return out


def _value(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.isoformat() + "Z"  # Edm.DateTimeOffset needs an offset; the warehouse stores UTC
    return value


def _audit(conn: Any, key: Any, view: View, request: Request, options: dict[str, str], *,  # noqa: ANN401
           records: int, action: str = "records.read") -> None:
    detail = {"protocol": "odata", "path": request.url.path,
              "options": {k: v[:500] for k, v in options.items() if k != "$skiptoken"},
              "page": "next" if "$skiptoken" in options else "first", **view.describe(),
              "client": request.client.host if request.client else None}
    append_audit(conn, actor=key.actor, action=action, dataset=view.dataset, detail=detail, records=records)

