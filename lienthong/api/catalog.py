"""The shared code lists (danh mục dùng chung) with their versions, for any valid key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lienthong.api.auth import Caller, Context
from lienthong.api.errors import AUTHED, R404, ApiError
from lienthong.api.models import CodeListOut, CodeListSummary, CodeValueOut
from lienthong.warehouse.catalog_store import stored_versions
from lienthong.warehouse.queries import code_list_versions, code_values

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])


@router.get("", response_model=list[CodeListSummary], responses=AUTHED, summary="Every code list")
def list_code_lists(_: Caller, ctx: Context) -> list[CodeListSummary]:
    by_name: dict[str, list[dict]] = {}
    for v in stored_versions(ctx.hub.engine):
        by_name.setdefault(v["name"], []).append(v)
    out = []
    for name, versions in sorted(by_name.items()):
        current = next((v for v in versions if v["is_current"]), versions[0])
        out.append(CodeListSummary(name=name, current_version=current["version"], title_vi=current["title_vi"],
                                   title_en=current["title_en"], versions=[v["version"] for v in versions]))
    return out


@router.get("/{code_list}", response_model=CodeListOut, responses=AUTHED | R404,
            summary="One code list's values (the current version, or `version`)")
def get_code_list(
    code_list: str, _: Caller, ctx: Context,
    version: Annotated[str | None, Query(max_length=64, description="Default: the current version.")] = None,
) -> CodeListOut:
    versions = code_list_versions(ctx.hub.engine, code_list)
    chosen = next((v for v in versions if v["version"] == version), None) if version else \
        (versions[0] if versions else None)
    if chosen is None:
        what = f"code list {code_list!r}" + (f" version {version!r}" if version else "")
        raise ApiError(404, "not_found", f"no {what}", f"Không có danh mục {code_list!r}"
                       + (f" phiên bản {version!r}" if version else ""))
    values = [CodeValueOut(**{k: v[k] for k in CodeValueOut.model_fields}) for v in
              code_values(ctx.hub.engine, code_list, chosen["version"])]
    return CodeListOut(name=code_list, version=chosen["version"], title_vi=chosen["title_vi"],
                       title_en=chosen["title_en"], valid_from=chosen["valid_from"], basis=chosen["basis"],
                       is_current=chosen["is_current"], versions=[v["version"] for v in versions], values=values)
