"""Typed keys of the shared app-wide resources on the aiohttp application.

Each feature keeps the keys of its own services (``server/chats/keys.py``,
``server/safety/keys.py``, ``server/rooms/keys.py``), so that its edges
need nothing above it; these are the resources every door shares.
"""

from __future__ import annotations

from aiohttp import web

from .access import AccessGate
from .auth import DevIdentityProvider
from .bus import Bus
from .clock import Clock
from .config import Config
from .http_limits import PersonRequests
from .metrics import Metrics
from .policy.guard import Guard
from .preauth import PendingConnections
from .retention import RetentionSweep
from .sessions import Sessions
from .store.base import Store

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
RETENTION = web.AppKey("retention", RetentionSweep)
BUS = web.AppKey("bus", Bus)
METRICS = web.AppKey("metrics", Metrics)
GATE = web.AppKey("gate", AccessGate)
SESSIONS = web.AppKey("sessions", Sessions)
DEV_IDP = web.AppKey("dev_idp", DevIdentityProvider)
GUARD = web.AppKey("guard", Guard)
PENDING = web.AppKey("pending", PendingConnections)
PERSON_REQUESTS = web.AppKey("person_requests", PersonRequests)
