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

MEDIA_NO_ROOM: Final = "media.no_room"
MEDIA_BAD_SDP: Final = "media.bad_sdp"
MEDIA_BAD_TRACKS: Final = "media.bad_tracks"
MEDIA_CODEC: Final = "media.codec"
MEDIA_TOO_MANY_TRACKS: Final = "media.too_many_tracks"
MEDIA_UNKNOWN_TRACK: Final = "media.unknown_track"
MEDIA_OWN_TRACK: Final = "media.own_track"
MEDIA_NO_OFFER: Final = "media.no_offer"
MEDIA_NO_CONNECTION: Final = "media.no_connection"
MEDIA_BAD_CANDIDATE: Final = "media.bad_candidate"

CODES: Final = (
    MEDIA_NO_ROOM,
    MEDIA_BAD_SDP,
    MEDIA_BAD_TRACKS,
    MEDIA_CODEC,
    MEDIA_TOO_MANY_TRACKS,
    MEDIA_UNKNOWN_TRACK,
    MEDIA_OWN_TRACK,
    MEDIA_NO_OFFER,
    MEDIA_NO_CONNECTION,
    MEDIA_BAD_CANDIDATE,
)


class MediaError(ZvonokError):
    """A media request the SFU cannot carry out."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, http_status=422)


def bad_sdp(message: str) -> MediaError:
    return MediaError(MEDIA_BAD_SDP, message)


def bad_candidate(message: str) -> MediaError:
    return MediaError(MEDIA_BAD_CANDIDATE, message)
