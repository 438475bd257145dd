"""Sign-in and out, the language switch, the static files and the dataset catalogue.

The catalogue is the API's own (``lienthong.api.datasets.catalogue``: titles, schema, privacy classes, counts,
quality) plus the open-data release on disk; a dataset's CSV download goes through the API's records endpoint
function, so what a key sees of it (organisation filter, withheld or pseudonymised identifiers) and the audit
log entry are exactly those of ``GET /api/v1/datasets/{id}/records?format=csv``.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from lienthong.api import datasets
from lienthong.api.context import ApiContext, get_context
from lienthong.api.errors import ApiError
from lienthong.warehouse.api_keys import verify_token
from lienthong.web.session import (
    HERE,
    KEY_COOKIE,
    LANG_COOKIE,
    Anyone,
    SignedIn,
    Visitor,
    WebRoute,
    check_csrf,
    language,
    render,
    safe_next,
    secure_cookies,
    set_sign_in_cookie,
    sign_in_refusal,
    sign_in_token,
)

router = APIRouter(include_in_schema=False, route_class=WebRoute)
Context = Annotated[ApiContext, Depends(get_context)]
STATIC = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "favicon.svg": "image/svg+xml"}


@router.get("/")
def home(who: Anyone) -> RedirectResponse:
    """Clerks land on the upload page, operators (admin keys) on the dashboard, anyone else on sign-in."""
    if who.key is None:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse("/dashboard" if who.key.is_admin() else "/upload", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, who: Anyone, next: str | None = None, bye: bool = False) -> Response:  # noqa: A002
    return _sign_in_form(request, who, next=next, notice=who.t("signin.signed_out") if bye else None)


def _sign_in_form(request: Request, who: Visitor, *, next: str | None, status_code: int = 200,  # noqa: A002
                  error: str | None = None, notice: str | None = None) -> Response:
    """The sign-in page with its form token, the same token set in the sign-in cookie (double submit)."""
    form_token = sign_in_token(request)
    page = render(request, who, "sign_in.html", status_code=status_code, next=safe_next(next, ""), error=error,
                  notice=notice, form_token=form_token)
    set_sign_in_cookie(request, page, form_token)
    return page


@router.post("/sign-in")
def sign_in(request: Request, ctx: Context, token: Annotated[str, Form(max_length=300)] = "",
            next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
            form_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Check that the form is this site's own (login CSRF), then the key once here (a clear message beats a
    redirect loop), then keep it in a session cookie."""
    lang = language(request)
    token = token.strip()
    who = Visitor(None, None, lang)
    refused = sign_in_refusal(request, form_token)
    if refused:  # nothing about the key is looked at: the form was not ours
        return _sign_in_form(request, who, next=next, status_code=403, error=who.t(refused))
    error = None
    if not token.startswith("lt_"):
        error = who.t("signin.bad")
    else:
        key = verify_token(ctx.hub.engine, token)
        if key is None or key.revoked or key.expired():
            state = "unknown" if key is None else "revoked" if key.revoked else "expired"
            error = {"unknown": ("Khóa API không hợp lệ", "The API key is unknown"),
                     "revoked": ("Khóa API đã bị thu hồi", "The API key was revoked"),
                     "expired": ("Khóa API đã hết hạn", "The API key has expired")}[state][lang == "en"]
    if error:
        return _sign_in_form(request, who, next=next, status_code=401, error=error)
    target = safe_next(next, "/")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(KEY_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request),
                        path="/")
    return response


@router.post("/sign-out")
def sign_out(who: SignedIn, csrf: Annotated[str, Form(max_length=100)] = "") -> RedirectResponse:
    check_csrf(who, csrf)
    response = RedirectResponse("/sign-in?bye=true", status_code=303)
    response.delete_cookie(KEY_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str | None = None) -> RedirectResponse:  # noqa: A002
    """Remember the language for a year (it is not personal) and go back to the page."""
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    response.set_cookie(LANG_COOKIE, "en" if lang == "en" else "vi", max_age=365 * 86400, samesite="lax", path="/",
                        secure=secure_cookies(request))
    return response


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    """The few files of ``static/``, by name from a fixed list (no path walks out of the folder)."""
    if name not in STATIC:
        raise ApiError(404, "not_found", f"no static file {name!r}", f"Không có tệp {name!r}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/catalogue")
def catalogue(request: Request, who: SignedIn, ctx: Context) -> Response:
    published = datasets.catalogue(who.key, ctx)
    return render(request, who, "catalogue.html", published=published, open_data=_open_release(ctx))


@router.get("/catalogue/{dataset}/records.csv")
def download(dataset: str, request: Request, who: SignedIn, ctx: Context) -> Response:
    """The dataset as CSV, through the API's records endpoint (scopes, privacy view and audit included)."""
    response = datasets.records(dataset, who.key, ctx, request, since=None, limit=None, format="csv",
                                province_code=None, ward_code=None, organisation=None)
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset}.csv"'
    return response


def _open_release(ctx: ApiContext) -> list[dict] | None:
    """The resources of the open-data release on disk (``<home>/open-data/datapackage.json``), if there is one."""
    path = ctx.settings.home / "open-data" / "datapackage.json"
    if not path.is_file():
        return None
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return list(package.get("resources", []))
