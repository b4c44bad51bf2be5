"""What a participant's SDP and ICE candidates must be before aiortc sees them.

aiortc is a WebRTC endpoint written for well-behaved peers: its SDP parser
asserts, its peer connection changes its state section by section and only
then finds that a section cannot be used (a missing ``a=setup`` is an
``AttributeError`` half-way through ``setRemoteDescription``, a section with
no common codec an ``OperationError`` after the sections before it were
applied), and some of what it accepts fails later in a task nobody awaits
(no fingerprint: an ``AssertionError`` when DTLS starts). So every
description a participant sends is read here first, by aiortc's own parser
(:func:`media.aiortc_glue.parse_description`), every way that parser fails
is ``media.bad_sdp``, and then it is held to what the SFU and aiortc rely
on:

* 1 to :data:`MAX_SECTIONS` sections, audio or video only (no data
  channels), each with a unique ``a=mid`` of 1 to :data:`MAX_MID`
  characters, ``a=rtcp-mux``, ICE credentials of RFC 8839's grammar, an
  ``a=setup`` allowed for its side of the negotiation and at least one
  fingerprint aiortc can check (sha-256, -384 or -512, of the right length);
* addresses (``c=``, ``a=rtcp``) are IP addresses or mDNS names (Firefox's
  ``a=rtcp`` names its host candidate's), ports 0 to 65535, SSRCs 32-bit,
  header extension ids 1 to 255, a BUNDLE group names only the
  description's mids;
* at most :data:`MAX_CANDIDATES` candidates a section, each as
  :func:`check_candidate` wants a trickled one;
* every section shares a codec with the SFU (Opus, VP8), as aiortc would
  decide it (:func:`media.aiortc_glue.common_codecs`);
* an offer keeps the sections of the connection's earlier offers, in their
  order (RFC 8829 5.2.2), and only adds sections after them; an answer has
  exactly the offer's sections.

Nothing here does I/O or keeps state; the SFU calls it and hands aiortc only
what passed, written out again as aiortc can read it (:func:`_for_aiortc`)
and checked once more.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final, Literal

from aiortc import RTCIceCandidate
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from . import aiortc_glue as glue
from .errors import MEDIA_CODEC, MEDIA_TOO_MANY_TRACKS, MediaError, bad_candidate, bad_sdp

MAX_SECTIONS: Final = 16  # media sections in one description; a connection never grows past it
MAX_MID: Final = 32  # characters of a mid (as signaling.rooms.MAX_MID)
MAX_CANDIDATES: Final = 32  # a=candidate lines in one section
MAX_SSRC: Final = 2**32 - 1
MAX_PRIORITY: Final = 2**32 - 1

Side = Literal["offer", "answer"]
SETUP_ROLES: Final[dict[Side, tuple[str, ...]]] = {
    # aiortc's names for a=setup actpass, active, passive
    "offer": ("auto", "client", "server"),
    "answer": ("client", "server"),
}
FINGERPRINT_BYTES: Final = {"sha-256": 32, "sha-384": 48, "sha-512": 64}
CANDIDATE_TYPES: Final = ("host", "srflx", "prflx", "relay")
TCP_TYPES: Final = ("active", "passive", "so")

_ICE_CHARS = r"[A-Za-z0-9+/]"
_UFRAG = re.compile(rf"{_ICE_CHARS}{{4,256}}")
_PWD = re.compile(rf"{_ICE_CHARS}{{22,256}}")
_FOUNDATION = re.compile(rf"{_ICE_CHARS}{{1,32}}")
_MDNS_NAME = re.compile(r"[A-Za-z0-9-]{1,63}\.local")  # aioice's rule for names it resolves
_DIGITS = re.compile(r"[0-9]{1,10}")

Sections = tuple[tuple[str, str], ...]  # (kind, mid) of each section, in order


@dataclass(frozen=True, slots=True)
class Section:
    """One audio or video section of a checked description."""

    kind: Literal["audio", "video"]
    mid: str
    direction: str
    codecs: tuple[str, ...]  # mime types as offered, e.g. ("video/VP8", "video/rtx")


@dataclass(frozen=True, slots=True)
class CheckedOffer:
    """A publishing offer that aiortc can apply: its sections, and the text to give it."""

    sections: tuple[Section, ...]
    sdp: str  # cut to the forwarded codecs (media.aiortc_glue.keep_forwarded_codecs)

    @property
    def layout(self) -> Sections:
        return tuple((s.kind, s.mid) for s in self.sections)


def parse(sdp: str) -> glue.SessionDescription:
    """aiortc's reading of ``sdp``; text its parser cannot read is ``media.bad_sdp``."""
    try:
        return glue.parse_description(sdp)
    except glue.PARSER_FAILURES as exc:
        raise bad_sdp("the description does not parse as SDP") from exc


def check_offer(sdp: str, earlier: Sections = ()) -> CheckedOffer:
    """A participant's offer for its publishing connection, cut to what the SFU forwards.

    ``earlier`` is the layout of the offer this connection took before (none
    for a new connection).
    """
    description = parse(sdp)
    sections = _check_description(description, "offer")
    _check_layout(sections, earlier, "an offer keeps the sections it offered before, in order")
    glue.keep_forwarded_codecs(description)
    for section, media in zip(sections, description.media, strict=True):
        if not glue.common_codecs(media.kind, media.rtp.codecs):
            raise MediaError(
                MEDIA_CODEC, f"mid {section.mid[:MAX_MID]} offers neither Opus nor VP8"
            )
    return CheckedOffer(sections, _for_aiortc(description, "offer"))


def check_answer(sdp: str, offer: str, preferred: dict[str, list[RTCRtpCodecCapability]]) -> str:
    """A participant's answer to the SFU's ``offer`` (whose codecs were ``preferred``),
    as the text to give aiortc."""
    description = parse(sdp)
    sections = _check_description(description, "answer")
    offered = tuple((s.kind, s.mid) for s in _sections(parse(offer)))
    if tuple((s.kind, s.mid) for s in sections) != offered:
        raise bad_sdp("an answer has the offer's sections, in the offer's order")
    for section, media in zip(sections, description.media, strict=True):
        if not glue.common_codecs(media.kind, media.rtp.codecs, preferred[media.kind]):
            raise MediaError(MEDIA_CODEC, f"mid {section.mid} accepts none of the offered codecs")
    return _for_aiortc(description, "answer")


def is_mdns(candidate: RTCIceCandidate) -> bool:
    """Whether the candidate's address is an mDNS name (a browser hiding its address).

    The SFU does not resolve them: that would send a multicast query for
    every such candidate a participant makes up, and wait up to a second on
    it, and it needs no client address anyway. The client's connectivity
    checks reach the SFU's candidates, and ICE learns the client's address
    from them (a peer-reflexive candidate).
    """
    return _MDNS_NAME.fullmatch(candidate.ip) is not None


# JSEP's placeholder address of c= and a=rtcp (RFC 8829 5.2.1), as aiortc writes its own.
DISCARD_HOST: Final = "0.0.0.0"  # noqa: S104 (written in SDP, never bound)
DISCARD_PORT: Final = 9


def _for_aiortc(description: glue.SessionDescription, side: Side) -> str:
    """The checked description as the text aiortc is given, read back and checked again.

    aiortc writes it again with its own serialiser, which cannot write an
    mDNS name in ``c=`` or ``a=rtcp`` (Firefox's ``a=rtcp`` names its host
    candidate's) and writes ``a=rtcp-mux`` only after an ``a=rtcp`` line
    (Firefox's answers have none), so both lines get the discard address:
    with ``a=rtcp-mux`` neither is used. mDNS candidates are dropped (see
    :func:`is_mdns`), and with them the ``a=end-of-candidates`` that would
    tell ICE there is no address left to learn: aioice, told that with no
    candidate, gives up on the section and gathers none of its own for it.
    """
    if description.host is not None and _MDNS_NAME.fullmatch(description.host):
        description.host = DISCARD_HOST
    for m in description.media:
        kept = [c for c in m.ice_candidates if not is_mdns(c)]
        if len(kept) < len(m.ice_candidates):
            m.ice_candidates = kept
            m.ice_candidates_complete = False
        if m.host is not None and _MDNS_NAME.fullmatch(m.host):
            m.host = DISCARD_HOST
        if m.rtcp_port is None or (m.rtcp_host is not None and _MDNS_NAME.fullmatch(m.rtcp_host)):
            m.rtcp_port, m.rtcp_host = DISCARD_PORT, DISCARD_HOST
    text = str(description)
    _check_description(parse(text), side)  # what aiortc will read is what was checked
    return text


def check_candidate(line: str) -> RTCIceCandidate:
    """A trickled ICE candidate, every field checked (RFC 8839 5.1), as aiortc's.

    ``[a=]candidate:foundation component transport priority address port typ
    type [raddr address] [rport port] [tcptype type] [name value]...``.
    """
    body = line.removeprefix("a=").removeprefix("candidate:")
    bits = body.split()
    if len(bits) < 8 or bits[6] != "typ":
        raise bad_candidate(
            "a candidate is: foundation component transport priority address port typ type"
        )
    numbers = [bits[1], bits[3], bits[5]] + [
        v for n, v in zip(bits[8::2], bits[9::2], strict=False) if n == "rport"
    ]
    if not all(_DIGITS.fullmatch(n) for n in numbers):
        raise bad_candidate("a candidate's component, priority, port and rport are numbers")
    candidate = glue.parse_candidate(body)
    problem = candidate_problem(candidate)
    if problem is not None:
        raise bad_candidate(problem)
    return candidate


def candidate_problem(candidate: RTCIceCandidate) -> str | None:
    """What is wrong with a candidate aiortc has read, if anything.

    Its address is an IP address (neither unspecified, multicast nor
    broadcast: ICE would send its checks there) or an mDNS name.
    """
    if not _FOUNDATION.fullmatch(candidate.foundation):
        return "a foundation is 1 to 32 letters, digits, '+' or '/'"
    if not 1 <= candidate.component <= 256:
        return "a component is 1 to 256"
    if candidate.protocol.lower() not in ("udp", "tcp"):
        return "a candidate's transport is udp or tcp"
    if not 1 <= candidate.priority <= MAX_PRIORITY:
        return "a priority is 1 to 2**32-1"
    if not _address(candidate.ip):
        return "a candidate's address is a unicast IP address or an mDNS name"
    if not 1 <= candidate.port <= 65535:
        return "a candidate's port is 1 to 65535"
    if candidate.type not in CANDIDATE_TYPES:
        return f"a candidate's type is one of {', '.join(CANDIDATE_TYPES)}"
    related = candidate.relatedAddress
    if related is not None and not (_ip(related) or _MDNS_NAME.fullmatch(related)):
        return "raddr is an IP address"
    if candidate.relatedPort is not None and not 0 <= candidate.relatedPort <= 65535:
        return "rport is 0 to 65535"
    if candidate.tcpType is not None and candidate.tcpType not in TCP_TYPES:
        return f"tcptype is one of {', '.join(TCP_TYPES)}"
    return None


# -- the checks ----------------------------------------------------------------------------


def _check_description(description: glue.SessionDescription, side: Side) -> tuple[Section, ...]:
    media = description.media
    if not media:
        raise bad_sdp("a description has at least one media section")
    if len(media) > MAX_SECTIONS:
        raise MediaError(
            MEDIA_TOO_MANY_TRACKS, f"a description has at most {MAX_SECTIONS} media sections"
        )
    if description.host is not None and not _host(description.host):
        raise bad_sdp("c= names an IP address or an mDNS name")
    sections = _sections(description)
    mids = [s.mid for s in sections]
    if len(set(mids)) != len(mids):
        raise bad_sdp("each media section has its own a=mid")
    for group in description.group:
        if group.semantic == "BUNDLE" and not set(map(str, group.items)) <= set(mids):
            raise bad_sdp("a BUNDLE group names only the description's mids")
    for section, m in zip(sections, media, strict=True):
        _check_transport(section.mid, m, side)
        _check_rtp(section.mid, m)
    return sections


def _sections(description: glue.SessionDescription) -> tuple[Section, ...]:
    out: list[Section] = []
    for m in description.media:
        kind: Literal["audio", "video"]
        if m.kind == "audio":
            kind = "audio"
        elif m.kind == "video":
            kind = "video"
        else:
            raise bad_sdp("the SFU takes audio and video sections only")
        mid = m.rtp.muxId
        if not mid or len(mid) > MAX_MID:
            raise bad_sdp(f"each media section has an a=mid of 1 to {MAX_MID} characters")
        codecs = tuple(c.mimeType for c in m.rtp.codecs)
        out.append(Section(kind=kind, mid=mid, direction=str(m.direction), codecs=codecs))
    return tuple(out)


def _check_transport(mid: str, m: glue.MediaDescription, side: Side) -> None:
    where = f"mid {mid}"
    if not m.rtcp_mux:
        raise bad_sdp(f"{where}: a=rtcp-mux is required")
    ice = m.ice
    if ice is None or not _UFRAG.fullmatch(ice.usernameFragment or ""):
        raise bad_sdp(f"{where}: a=ice-ufrag is 4 to 256 ICE characters")
    if not _PWD.fullmatch(ice.password or ""):
        raise bad_sdp(f"{where}: a=ice-pwd is 22 to 256 ICE characters")
    dtls = m.dtls
    if dtls is None or dtls.role not in SETUP_ROLES[side]:
        setups = "actpass, active or passive" if side == "offer" else "active or passive"
        raise bad_sdp(f"{where}: a=setup is {setups}")
    if not any(_fingerprint(f.algorithm, f.value) for f in dtls.fingerprints):
        raise bad_sdp(f"{where}: an a=fingerprint of sha-256, sha-384 or sha-512 is required")
    if not 0 <= m.port <= 65535 or (m.rtcp_port is not None and not 0 <= m.rtcp_port <= 65535):
        raise bad_sdp(f"{where}: ports are 0 to 65535")
    for host in (m.host, m.rtcp_host):
        if host is not None and not _host(host):
            raise bad_sdp(f"{where}: c= and a=rtcp name IP addresses or mDNS names")
    if len(m.ice_candidates) > MAX_CANDIDATES:
        raise bad_sdp(f"{where}: at most {MAX_CANDIDATES} candidates")
    for candidate in m.ice_candidates:
        problem = candidate_problem(candidate)
        if problem is not None:
            raise bad_sdp(f"{where}: {problem}")


def _check_rtp(mid: str, m: glue.MediaDescription) -> None:
    where = f"mid {mid}"
    if any(not 0 <= s.ssrc <= MAX_SSRC for s in m.ssrc) or any(
        not 0 <= int(x) <= MAX_SSRC for g in m.ssrc_group for x in g.items
    ):
        raise bad_sdp(f"{where}: SSRCs are 32-bit")
    if any(not 1 <= e.id <= 255 for e in m.rtp.headerExtensions):
        raise bad_sdp(f"{where}: header extension ids are 1 to 255")
    if any(c.clockRate is None or not 0 < c.clockRate < 2**32 for c in m.rtp.codecs):
        raise bad_sdp(f"{where}: a clock rate is a positive 32-bit number")


def _check_layout(sections: tuple[Section, ...], earlier: Sections, message: str) -> None:
    layout = tuple((s.kind, s.mid) for s in sections)
    if layout[: len(earlier)] != earlier:
        raise bad_sdp(message)


def _number(text: str, lo: int, hi: int) -> bool:
    return _DIGITS.fullmatch(text) is not None and lo <= int(text) <= hi


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _host(text: str) -> bool:
    """What c= and a=rtcp may name: an IP address, or an mDNS name (``<uuid>.local``)."""
    return _ip(text) or _MDNS_NAME.fullmatch(text) is not None


def _address(text: str) -> bool:
    """A unicast IP address, or an mDNS name (``<uuid>.local``)."""
    if _MDNS_NAME.fullmatch(text):
        return True
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    if address.is_unspecified or address.is_multicast:
        return False
    return not (isinstance(address, ipaddress.IPv4Address) and address.packed == b"\xff" * 4)


def _fingerprint(algorithm: str, value: str) -> bool:
    size = FINGERPRINT_BYTES.get(algorithm.lower())
    pattern = rf"[0-9A-Fa-f]{{2}}(:[0-9A-Fa-f]{{2}}){{{size - 1}}}" if size else None
    return pattern is not None and re.fullmatch(pattern, value) is not None
