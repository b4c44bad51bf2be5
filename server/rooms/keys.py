"""The rooms' app-wide resources, under the typed keys the app holds them by."""

from __future__ import annotations

from aiohttp import web

from .controls import Controls
from .media import RoomMedia
from .relay import RoomRelay
from .service import RoomService

ROOMS = web.AppKey("rooms", RoomService)
ROOM_CONTROLS = web.AppKey("room_controls", Controls)
ROOM_MEDIA = web.AppKey("room_media", RoomMedia)
ROOM_RELAY = web.AppKey("room_relay", RoomRelay)  # with several nodes only
