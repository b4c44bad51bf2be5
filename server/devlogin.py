"""Development sign-in: pick a demo person, get an ESIA-shaped token.

Mounted only when the development identity provider is on, which the
configuration refuses in production mode.  Anyone who can reach these routes
can act as anyone on the roster: that is their purpose on a developer's
machine and the reason they never run anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from signaling.errors import AUTH_UNKNOWN_PERSON
from signaling.http import DevTokenBody

from .appkeys import CLOCK, CONFIG, DEV_IDP, STORE
from .errors import ZvonokError
from .http_api import json_response, read_body

routes = web.RouteTableDef()

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"


@routes.get("/dev/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    """The page that lists the demo people (web/dev-login.html)."""
    page = WEB_ROOT / "dev-login.html"
    if not page.is_file():
        raise web.HTTPNotFound(text="web/dev-login.html is not installed")
    return web.FileResponse(page, headers={"Cache-Control": "no-store"})


@routes.get("/dev/people")
async def people(request: web.Request) -> web.Response:
    """Everyone on the roster, with roles and classes, for the login page."""
    entries = await request.app[STORE].directory()
    return json_response(
        [
            {
                "person": e.person.to_json(),
                "roles": [r.to_json() for r in e.roles],
                "classes": [c.to_json() for c in e.classes],
            }
            for e in entries
        ]
    )


@routes.post("/dev/token")
async def token(request: web.Request) -> web.Response:
    """Issue a token for ``{"oid": N}``; the OID must be on the roster."""
    oid = (await read_body(request, DevTokenBody)).oid
    if await request.app[STORE].person(oid) is None:
        raise ZvonokError(AUTH_UNKNOWN_PERSON, f"{oid} is not on the roster", http_status=404)
    lifetime = request.app[CONFIG].dev_idp.token_lifetime
    issued = request.app[DEV_IDP].issue(oid, lifetime=lifetime)
    return json_response(
        {"token": issued, "expires_at": request.app[CLOCK].time() + lifetime},
        status=201,
    )
