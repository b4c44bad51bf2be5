"""Typed keys of the app-wide resources stored on the aiohttp application."""

from __future__ import annotations

from aiohttp import web

from .access import AccessGate
from .auth import DevIdentityProvider
from .bus import Bus
from .chats.presence import Presence
from .chats.roster_watch import RosterWatch
from .chats.service import ChatService
from .clock import Clock
from .config import Config
from .http_limits import PersonRequests
from .preauth import PendingConnections
from .retention import RetentionSweep
from .rooms.controls import Controls
from .rooms.media import RoomMedia
from .rooms.service import RoomService
from .safety.moderation import Moderation
from .safety.people import People
from .safety.reports import Reports
from .safety.schools import Schools
from .sessions import Sessions
from .store.base import Store

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
RETENTION = web.AppKey("retention", RetentionSweep)
BUS = web.AppKey("bus", Bus)
GATE = web.AppKey("gate", AccessGate)
SESSIONS = web.AppKey("sessions", Sessions)
DEV_IDP = web.AppKey("dev_idp", DevIdentityProvider)
CHATS = web.AppKey("chats", ChatService)
PRESENCE = web.AppKey("presence", Presence)
MODERATION = web.AppKey("moderation", Moderation)
REPORTS = web.AppKey("reports", Reports)
PEOPLE = web.AppKey("people", People)
SCHOOLS = web.AppKey("schools", Schools)
ROSTER_WATCH = web.AppKey("roster_watch", RosterWatch)
ROOM_MEDIA = web.AppKey("room_media", RoomMedia)
ROOMS = web.AppKey("rooms", RoomService)
ROOM_CONTROLS = web.AppKey("room_controls", Controls)
PENDING = web.AppKey("pending", PendingConnections)
PERSON_REQUESTS = web.AppKey("person_requests", PersonRequests)
