"""The SFU's refusals, each with a stable ``media.*`` code (docs/protocol.md, "Media error codes").

Whatever a participant sends on the media side (an SDP offer or answer, an
ICE candidate, a track id) is refused with one of these, never with an
exception from aiortc: its parser and its peer connection raise
``AssertionError``, ``ValueError``, ``KeyError`` and its own
``InvalidStateError``/``OperationError`` on input they cannot use, and those
are translated where aiortc is called (``raise MediaError(...) from exc``).
"""

from __future__ import annotations

from typing import Final

from server.errors import ZvonokError
from signaling.errors import CODES as CATALOGUE
from signaling.errors import (
    MEDIA_BAD_CANDIDATE,
    MEDIA_BAD_SDP,
    MEDIA_BAD_TRACKS,
    MEDIA_CODEC,
    MEDIA_NO_CONNECTION,
    MEDIA_NO_OFFER,
    MEDIA_NO_ROOM,
    MEDIA_OWN_TRACK,
    MEDIA_TOO_MANY_TRACKS,
    MEDIA_UNKNOWN_TRACK,
)

__all__ = [
    "MEDIA_BAD_CANDIDATE",
    "MEDIA_BAD_SDP",
    "MEDIA_BAD_TRACKS",
    "MEDIA_CODEC",
    "MEDIA_NO_CONNECTION",
    "MEDIA_NO_OFFER",
    "MEDIA_NO_ROOM",
    "MEDIA_OWN_TRACK",
    "MEDIA_TOO_MANY_TRACKS",
    "MEDIA_UNKNOWN_TRACK",
]

CODES: Final = tuple(code for code, entry in CATALOGUE.items() if entry.section == "media")
"""Every ``media.*`` code, as the catalogue (signaling/errors.py) lists them."""


class MediaError(ZvonokError):
    """A media request the SFU cannot carry out."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def bad_sdp(message: str) -> MediaError:
    return MediaError(MEDIA_BAD_SDP, message)


def bad_candidate(message: str) -> MediaError:
    return MediaError(MEDIA_BAD_CANDIDATE, message)
