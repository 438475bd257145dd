"""Who is looking at a page, in which language, and how a page is rendered.

The API key a clerk pastes at sign-in is kept in a *session cookie* (no expiry: the browser forgets it when it
closes), HttpOnly so page scripts cannot read it and SameSite=Strict so another site cannot send it. Every page
checks it with the API's own :func:`lienthong.api.auth.current_key` — the same revocation, expiry and rate limit
as a bearer token — so the web pages can never do more than the key could do with curl. Forms that change
something also carry a CSRF token derived from the key (HMAC), checked on POST.

Signing in is guarded too (login CSRF: another site must not sign a clerk's browser in with *its* key): the
sign-in form carries a random token that must equal the one in a cookie of this site (double submit; the cookie
is SameSite=Strict, so a cross-site POST arrives without it), and a POST whose ``Origin`` (or, without one, its
``Referer``) names another host is refused. Cookies are ``Secure`` when the page was requested over HTTPS — the
request's scheme, which uvicorn takes from ``X-Forwarded-Proto`` only from trusted proxies
(``--forwarded-allow-ips`` / ``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import SplitResult, quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from jinja2 import Environment, FileSystemLoader, select_autoescape

from lienthong.api.auth import current_key
from lienthong.api.context import ApiContext, get_context
from lienthong.api.errors import ApiError
from lienthong.warehouse.api_keys import ApiKey
from lienthong.web.i18n import DEFAULT_LANG, LANGS, pick, text

KEY_COOKIE = "lt_web_key"
LANG_COOKIE = "lt_lang"
SIGN_IN_COOKIE = "lt_sign_in"  # the sign-in form's double-submit token, only sent back to /sign-in
_SIGN_IN_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
HERE = Path(__file__).parent
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Visitor:
    """The signed-in key (None before sign-in), its token and the page language."""

    key: ApiKey | None
    token: str | None
    lang: str

    @property
    def csrf(self) -> str:
        """A per-key form token: an HMAC of a fixed label under the key's own token (never the token itself)."""
        if not self.token:
            return ""
        return hmac.new(self.token.encode(), b"lienthong-web-form", hashlib.sha256).hexdigest()[:32]

    def t(self, key: str, **values: Any) -> str:
        return text(self.lang, key, **values)


def language(request: Request) -> str:
    """``?lang=`` for this page, else the language cookie, else Vietnamese."""
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or DEFAULT_LANG
    return lang if lang in LANGS else DEFAULT_LANG


async def visitor(request: Request, ctx: Annotated[ApiContext, Depends(get_context)]) -> Visitor:
    """The visitor, signed in or not; an expired, revoked or unknown key counts as signed out."""
    lang = language(request)
    token = request.cookies.get(KEY_COOKIE)
    if not token:
        return Visitor(None, None, lang)
    try:
        key = await current_key(HTTPAuthorizationCredentials(scheme="Bearer", credentials=token), ctx)
    except ApiError as exc:
        if exc.status == 429:
            raise
        return Visitor(None, None, lang)
    return Visitor(key, token, lang)


async def signed_in(request: Request, who: Annotated[Visitor, Depends(visitor)]) -> Visitor:
    """The visitor of a page that needs a key; anyone else is sent to sign in and brought back afterwards."""
    if who.key is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, detail="sign in first", headers={"Location": f"/sign-in?next={quote(target)}"})
    return who


Anyone = Annotated[Visitor, Depends(visitor)]
SignedIn = Annotated[Visitor, Depends(signed_in)]


def check_csrf(who: Visitor, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, who.csrf):
        raise ApiError(403, "bad_form_token", text("en", "error.csrf"), text("vi", "error.csrf"))


def secure_cookies(request: Request) -> bool:
    """Whether cookies get ``Secure``: the page came over HTTPS (directly, or through a trusted proxy)."""
    return request.url.scheme == "https"


def sign_in_token(request: Request) -> str:
    """The sign-in form's token: the one already in this browser's cookie (several tabs keep working), else new."""
    held = request.cookies.get(SIGN_IN_COOKIE, "")
    return held if _SIGN_IN_TOKEN.fullmatch(held) else secrets.token_urlsafe(32)


def set_sign_in_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(SIGN_IN_COOKIE, token, httponly=True, samesite="strict", secure=secure_cookies(request),
                        path="/sign-in")


def sign_in_refusal(request: Request, sent: str | None) -> str | None:
    """Why a sign-in POST must be refused (an i18n text key), or None when it came from this site's own form.

    The request's ``Origin`` (else ``Referer``) must name this host — compared by host and port, as the browser
    reached the site (the ``Host`` header), so a TLS-terminating proxy that forwards the Host header works — and
    the form's token must equal the sign-in cookie.
    """
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is not None:
        origin = urlsplit(claimed)
        host = request.headers.get("host", "")
        if claimed == "null" or not origin.netloc or not _same_host(origin, host):
            return "signin.cross_site"
    held = request.cookies.get(SIGN_IN_COOKIE)
    if not held or not sent or not hmac.compare_digest(held.encode(), sent.encode()):
        return "signin.expired"
    return None


def _same_host(origin: SplitResult, host: str) -> bool:
    """``origin`` (scheme://host[:port]) and the ``Host`` header name the same host and port."""
    default = {"https": 443, "http": 80}.get(origin.scheme)
    theirs = (origin.hostname or "", origin.port or default)
    name, _, port = host.rpartition(":") if host.rpartition(":")[2].isdigit() else (host, "", "")
    ours = (name.strip("[]").lower(), int(port) if port else default)
    return theirs == ours


def safe_next(target: str | None, default: str = "/upload") -> str:
    """Only a path on this site (never ``//host`` or a URL) may be where sign-in sends the visitor next."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def render(request: Request, who: Visitor, name: str, status_code: int = 200, **page: Any) -> HTMLResponse:
    """A page of ``templates/`` with the visitor, the texts and the current path for the language switch."""
    html = templates.get_template(name).render(
        who=who, t=who.t, lang=who.lang, pick=lambda item, *a: pick(who.lang, item, *a),
        path=request.url.path, query=request.url.query, **page)
    headers = {"Cache-Control": "no-store", "Content-Language": who.lang,
               "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                          "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
    return HTMLResponse(html, status_code=status_code, headers=headers)


def error_page(request: Request, who: Visitor, status_code: int, message: str) -> HTMLResponse:
    return render(request, who, "error.html", status_code=status_code, message=message)


def api_error_text(who: Visitor, exc: ApiError) -> str:
    return exc.message if who.lang == "en" else exc.message_vi


class WebRoute(APIRoute):
    """A route of the web pages: an :class:`ApiError` (403 another organisation's source, 404, 429, a refused
    form) becomes an HTML page in the visitor's language instead of the API's JSON problem — unless the page's
    own script asked for JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                if "application/json" in request.headers.get("accept", ""):
                    return JSONResponse({"error": exc.error, "message": exc.message, "message_vi": exc.message_vi},
                                        status_code=exc.status, headers=exc.headers)
                who = Visitor(None, None, language(request))
                page = error_page(request, who, exc.status, api_error_text(who, exc))
                page.headers.update(exc.headers or {})
                return page

        return handle
