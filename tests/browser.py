"""A small HTTP "browser" for sign-in tests: keeps cookies, follows redirects, submits forms.

It does what a browser does with the pages the sign-in serves and nothing
more: GET with redirects followed (a bounded number), forms read from the
HTML and submitted with the button pressed, ``Origin`` and
``Sec-Fetch-Site`` sent as a browser sends them.  No script runs, so what it
proves is that nothing of the flow needs any.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import aiohttp

MAX_REDIRECTS = 10


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, label


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("type") == "hidden":
            self.forms[-1].fields[a.get("name", "")] = a.get("value", "")
        elif tag == "button" and self.forms:
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value, label = self._button
            self.forms[-1].buttons.append((name, value, label.strip()))
            self._button = None


@dataclass
class Page:
    url: str
    status: int
    text: str
    history: list[str]

    @property
    def forms(self) -> list[Form]:
        parser = _Forms()
        parser.feed(self.text)
        return parser.forms


class Browser:
    """Cookies and redirects over a real socket, as a browser keeps and follows them."""

    def __init__(self) -> None:
        # unsafe: keep cookies of IP-address hosts (127.0.0.1), as browsers do.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.http.close()

    def cookie(self, name: str) -> str | None:
        for morsel in self.http.cookie_jar:
            if morsel.key == name:
                return morsel.value
        return None

    async def get(self, url: str, *, referrer_origin: str | None = None) -> Page:
        return await self._go("GET", url, None, referrer_origin)

    async def submit(self, page: Page, form: Form, button: tuple[str, str, str]) -> Page:
        data = dict(form.fields)
        if button[0]:
            data[button[0]] = button[1]
        origin = _origin(page.url)
        target = urljoin(page.url, form.action or page.url)
        return await self._go(form.method.upper(), target, data, origin)

    async def _go(
        self, method: str, url: str, data: dict[str, str] | None, origin: str | None
    ) -> Page:
        history: list[str] = []
        for _ in range(MAX_REDIRECTS):
            headers = {}
            if method != "GET" and origin is not None:
                headers["Origin"] = origin
                headers["Sec-Fetch-Site"] = (
                    "same-origin" if origin == _origin(url) else "cross-site"
                )
            async with self.http.request(
                method, url, data=data, headers=headers, allow_redirects=False
            ) as response:
                text = await response.text()
                if response.status in (301, 302, 303, 307, 308):
                    history.append(url)
                    next_url = urljoin(url, response.headers["Location"])
                    origin = None if _origin(next_url) != _origin(url) else origin
                    url = next_url
                    if response.status in (301, 302, 303):
                        method, data = "GET", None
                    continue
                return Page(str(response.url), response.status, text, history)
        raise AssertionError(f"more than {MAX_REDIRECTS} redirects: {history}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def button(page: Page, label: str) -> tuple[Form, tuple[str, str, str]]:
    """The form and button whose label contains ``label``."""
    for form in page.forms:
        for b in form.buttons:
            if label in b[2]:
                return form, b
    raise AssertionError(f"no button {label!r} on {page.url}: {page.text[:500]}")


def bound_socket() -> socket.socket:
    """A listening socket on 127.0.0.1 whose port is known before the server is made."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock
