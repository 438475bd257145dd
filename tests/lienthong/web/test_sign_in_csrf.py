"""Login CSRF: another site cannot sign a clerk's browser in with its own key (issue 12, row 13) — the sign-in POST
must come from this site (Origin, else Referer) with the form's token matching the sign-in cookie; and cookies are
``Secure`` over HTTPS, directly or behind a trusted proxy."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from lienthong.web.session import KEY_COOKIE, SIGN_IN_COOKIE
from tests.lienthong.api.conftest import Server, start_server  # noqa: F401 - the API tests' real server fixture
from tests.lienthong.web.conftest import Site, sign_in_form_token


def post(site: Site, *, headers: dict[str, str] | None = None, token: str | None = "page",
         with_cookie: bool = True):  # noqa: ANN202 - an httpx response
    c = site.client()
    form_token = sign_in_form_token(c)
    if not with_cookie:
        c.cookies.delete(SIGN_IN_COOKIE, path="/sign-in")
    data = {"token": site.tokens["hlhpn"], "next": "/upload"}
    if token is not None:
        data["form_token"] = form_token if token == "page" else token
    return c.post("/sign-in", data=data, headers=headers or {})


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},  # a sandboxed frame or a data: URL
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "http://testserver:8443"},  # another port is another site
    {"Referer": "https://evil.example/login.html"},  # no Origin: the Referer decides
])
def test_a_sign_in_posted_from_another_site_is_refused(site: Site, headers: dict[str, str]) -> None:
    r = post(site, headers=headers)
    assert r.status_code == 403
    assert KEY_COOKIE not in r.cookies and "lt_web_key" not in r.headers.get("set-cookie", "")
    assert "trang web khác" in r.text  # in Vietnamese, on the sign-in page


@pytest.mark.parametrize(("token", "with_cookie"), [(None, True), ("forged-" + "x" * 40, True), ("page", False)])
def test_a_sign_in_without_the_forms_own_token_is_refused(site: Site, token: str | None, with_cookie: bool) -> None:
    r = post(site, token=token, with_cookie=with_cookie)
    assert r.status_code == 403 and "lt_web_key" not in r.headers.get("set-cookie", "")
    assert "đăng nhập lại" in r.text
    assert re.search(r'name="form_token" value="[^"]+"', r.text)  # a fresh form to try again with


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://testserver"},
                                     {"Referer": "http://testserver/sign-in?next=/upload"}])
def test_the_sites_own_form_signs_in(site: Site, headers: dict[str, str]) -> None:
    r = post(site, headers=headers)
    assert r.status_code == 303 and r.headers["location"] == "/upload"
    assert "lt_web_key=" in r.headers["set-cookie"] and "secure" not in r.headers["set-cookie"].lower()


def test_cookies_are_secure_over_https(site: Site) -> None:
    c = site.client()
    c.base_url = httpx.URL("https://testserver")
    page = c.get("/sign-in")
    assert "secure" in page.headers["set-cookie"].lower()
    r = c.post("/sign-in", data={"token": site.tokens["hlhpn"], "form_token": sign_in_form_token(c)},
               headers={"Origin": "https://testserver"})
    assert r.status_code == 303
    assert "lt_web_key=" in r.headers["set-cookie"] and "secure" in r.headers["set-cookie"].lower()
    assert "secure" in c.get("/lang/en").headers["set-cookie"].lower()


@pytest.mark.integration
def test_behind_a_trusted_proxy_that_ends_tls_the_cookies_are_secure(
        start_server: Callable[..., Server]) -> None:  # noqa: F811 - the fixture imported above
    server = start_server()  # uvicorn trusts X-Forwarded-Proto from 127.0.0.1 (--forwarded-allow-ips)
    server.key("hlhpn", "push:hlhpn_push", "read:members", organisation="HLHPN")
    proxied = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=server.url, headers=proxied, timeout=60) as web:
        page = web.get("/sign-in")
        assert "secure" in page.headers["set-cookie"].lower()
        form_token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
        host = server.url.removeprefix("http://")
        # the browser talks HTTPS to the proxy, so it sends the Secure cookie back; httpx over http would not
        cookie = {"Cookie": f"{SIGN_IN_COOKIE}={form_token}"}
        r = web.post("/sign-in", data={"token": server.tokens["hlhpn"], "form_token": form_token},
                     headers={"Origin": f"https://{host}"} | cookie)
        assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()
        evil = web.post("/sign-in", data={"token": server.tokens["hlhpn"], "form_token": form_token},
                        headers={"Origin": "https://evil.example"} | cookie)
        assert evil.status_code == 403
