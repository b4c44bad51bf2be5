"""The safety services the app holds, under their typed keys."""

from __future__ import annotations

from aiohttp import web

from .moderation import Moderation
from .people import People
from .reports import Reports
from .schools import Schools

MODERATION = web.AppKey("moderation", Moderation)
REPORTS = web.AppKey("reports", Reports)
PEOPLE = web.AppKey("people", People)
SCHOOLS = web.AppKey("schools", Schools)
