"""The built web client (``web/dist``, made by ``make web``): its page and its assets.

``GET /`` sends a signed-in browser :func:`app_page` (the landing page of
:mod:`server.signin.pages` stays for everyone else); ``GET /assets/…`` serves
the bundle.  The asset names carry a hash of their content (web/build.mjs),
so they are cached for a year and never revalidated; the page that names
them is never cached, so a new build reaches every browser on its next load.

The Content-Security-Policy allows scripts, styles and connections to this
origin only (``connect-src 'self'`` covers the same-origin ``ws:``/``wss:``
of ``/ws``), no inline script, no framing.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Final

from aiohttp import web

log = logging.getLogger(__name__)

DIST: Final = Path(__file__).resolve().parent.parent / "web" / "dist"
ASSETS_PATH: Final = "/assets"
SIGNED_IN_MARK: Final = "<!--zvonok:signed-in-->"

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
IMMUTABLE: Final = "public, max-age=31536000, immutable"

routes = web.RouteTableDef()


def built(dist: Path = DIST) -> bool:
    """Whether ``make web`` has built the client."""
    return (dist / "index.html").is_file()


def app_page(full_name: str, dist: Path = DIST) -> web.Response | None:
    """The client's page for a signed-in browser, or None when it is not built.

    Until its script runs (a slow phone) or without scripts, the page says
    who is signed in and offers «Выйти»; the script replaces that.
    """
    try:
        document = (dist / "index.html").read_text(encoding="utf-8")
    except OSError:
        log.warning("web/dist/index.html is missing: run `make web`")
        return None
    signed_in = (
        f'<p class="placeholder">Вы вошли как <strong>{html.escape(full_name)}</strong>. '
        "Загружаем чаты…</p>"
        '<form method="post" action="/auth/logout" class="placeholder">'
        '<button class="button" type="submit">Выйти</button></form>'
    )
    return web.Response(
        text=document.replace(SIGNED_IN_MARK, signed_in, 1),
        content_type="text/html",
        headers={"Cache-Control": "no-store", **SECURITY_HEADERS},
    )


@routes.get(ASSETS_PATH + "/{name}")
async def asset(request: web.Request) -> web.StreamResponse:
    """One file of the bundle; only plain names directly under ``dist/assets``."""
    name = request.match_info["name"]
    path = DIST / "assets" / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": IMMUTABLE, **SECURITY_HEADERS})
