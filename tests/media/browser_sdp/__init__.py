"""Descriptions real browsers wrote, in the pages of tests/web/test_rtc_browsers.py.

``<browser>-publish-offer``: its offer of a fake camera and microphone
(``sendonly``); ``<browser>-subscribe-answer``: its answer to
``sfu-subscribe-offer``, the SFU's offer of a camera and a microphone.
Firefox's hide its host addresses behind mDNS names.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def captured(name: str) -> str:
    """The description ``name`` (e.g. ``firefox-153-publish-offer``), with SDP's CRLFs."""
    return "\r\n".join((HERE / f"{name}.sdp").read_text().splitlines()) + "\r\n"
