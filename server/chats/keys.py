"""The chats' app-wide resources, under the typed keys the app holds them by."""

from __future__ import annotations

from aiohttp import web

from .presence import Presence
from .roster_watch import RosterWatch
from .service import ChatService

CHATS = web.AppKey("chats", ChatService)
PRESENCE = web.AppKey("presence", Presence)
ROSTER_WATCH = web.AppKey("roster_watch", RosterWatch)
