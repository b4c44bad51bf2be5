"""media/sdp_check.py: what a participant's SDP and candidates must be before aiortc sees them.

Pure checks on text: no peer connection, no socket. The real server and SFU
are fuzzed with the same kinds of input in tests/server/test_rtc_fuzz.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media import sdp_check
from media.errors import MediaError
from media.sfu import PREFERRED

from .browser_sdp import captured

UFRAG, PWD = "abcd", "a" * 22
FINGERPRINT = "sha-256 " + ":".join(["AB"] * 32)


def section(kind: str = "video", mid: str = "0", **replace: str | None) -> list[str]:
    rtp = {"video": "96 VP8/90000", "audio": "111 opus/48000/2"}[kind]
    lines = {
        "m": f"m={kind} 9 UDP/TLS/RTP/SAVPF {rtp.split()[0]}",
        "c": "c=IN IP4 127.0.0.1",
        "amid": f"a=mid:{mid}",
        "dir": "a=sendonly",
        "mux": "a=rtcp-mux",
        "rtpmap": f"a=rtpmap:{rtp}",
        "ufrag": f"a=ice-ufrag:{UFRAG}",
        "pwd": f"a=ice-pwd:{PWD}",
        "fingerprint": f"a=fingerprint:{FINGERPRINT}",
        "setup": "a=setup:actpass",
    }
    for key, value in replace.items():
        lines[key] = value  # type: ignore[assignment]
    return [line for line in lines.values() if line is not None]


def sdp(*sections: list[str], session: tuple[str, ...] = ()) -> str:
    head = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", *session]
    return "\r\n".join(head + [line for s in sections for line in s]) + "\r\n"


GOOD = sdp(section("video", "0"), section("audio", "1"))


def refused(call: object, *args: object) -> str:
    with pytest.raises(MediaError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.code


def test_a_browser_like_offer_passes_cut_to_what_the_sfu_forwards() -> None:
    offer = sdp_check.check_offer(GOOD)
    assert offer.layout == (("video", "0"), ("audio", "1"))
    assert sdp_check.parse(offer.sdp).media[0].rtp.codecs[0].mimeType == "video/VP8"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio\r\n", "media.bad_sdp"),
        ("v=zero\r\n", "media.bad_sdp"),
        (sdp(), "media.bad_sdp"),  # no section
        (sdp(section(setup=None)), "media.bad_sdp"),  # aiortc: AttributeError mid-apply
        (sdp(section(setup="a=setup:holdconn")), "media.bad_sdp"),
        (sdp(section(fingerprint=None)), "media.bad_sdp"),  # aiortc: assert when DTLS starts
        (sdp(section(fingerprint="a=fingerprint:md5 AB:CD")), "media.bad_sdp"),
        (sdp(section(fingerprint="a=fingerprint:sha-256 AB:CD")), "media.bad_sdp"),
        (sdp(section(fingerprint="a=fingerprint")), "media.bad_sdp"),
        (sdp(section(ufrag=None)), "media.bad_sdp"),
        (sdp(section(pwd="a=ice-pwd:short")), "media.bad_sdp"),
        (sdp(section(mux=None)), "media.bad_sdp"),
        (sdp(section(amid=None)), "media.bad_sdp"),
        (sdp(section("video", "0"), section("audio", "0")), "media.bad_sdp"),  # same mid
        (sdp(section(c="c=IN IP4 school.example")), "media.bad_sdp"),
        (sdp(section(m="m=application 9 UDP/DTLS/SCTP webrtc-datachannel")), "media.bad_sdp"),
        (sdp(section(m="m=text 9 RTP/AVP 96")), "media.bad_sdp"),
        (sdp(section(m="m=video 9 UDP/TLS/RTP/SAVPF 300")), "media.bad_sdp"),
        (sdp(section(rtpmap="a=rtpmap:96 VP8")), "media.bad_sdp"),
        (sdp(section(), session=("a=group:BUNDLE 0 7",)), "media.bad_sdp"),
        (sdp(section(dir="a=extmap:300 urn:ietf:params:rtp-hdrext:sdes:mid")), "media.bad_sdp"),
        (sdp(section(dir="a=ssrc:99999999999 cname:x")), "media.bad_sdp"),
        (sdp(section(dir="a=candidate:1 1 udp 1 224.0.0.1 9 typ host")), "media.bad_sdp"),
        (sdp(section(dir="a=candidate:1 1 udp 1 127.0.0.1 70000 typ host")), "media.bad_sdp"),
        (sdp(section(rtpmap="a=rtpmap:96 H264/90000")), "media.codec"),
        (sdp(section(rtpmap="a=rtpmap:96 VP8/1000")), "media.codec"),
        (sdp(*(section("audio", str(n)) for n in range(17))), "media.too_many_tracks"),
    ],
)
def test_offers_aiortc_cannot_use_are_refused_before_it_sees_them(text: str, code: str) -> None:
    assert refused(sdp_check.check_offer, text) == code


def test_two_hundred_sections_are_refused_without_being_applied() -> None:
    text = sdp(*(section("audio", str(n)) for n in range(200)))
    assert refused(sdp_check.check_offer, text) == "media.too_many_tracks"


def test_an_offer_keeps_its_earlier_sections_in_order() -> None:
    earlier = sdp_check.check_offer(GOOD).layout
    grown = sdp(section("video", "0"), section("audio", "1"), section("video", "2"))
    assert sdp_check.check_offer(grown, earlier).layout[:2] == earlier
    swapped = sdp(section("audio", "1"), section("video", "0"))
    assert refused(sdp_check.check_offer, swapped, earlier) == "media.bad_sdp"
    rekinded = sdp(section("audio", "0"), section("audio", "1"))
    assert refused(sdp_check.check_offer, rekinded, earlier) == "media.bad_sdp"


def test_an_answer_has_the_offers_sections_and_a_definite_setup() -> None:
    answer = sdp(
        section("video", "0", setup="a=setup:active", dir="a=recvonly"),
        section("audio", "1", setup="a=setup:active", dir="a=recvonly"),
    )
    assert sdp_check.parse(sdp_check.check_answer(answer, GOOD, PREFERRED)).media
    actpass = sdp(section("video", "0"), section("audio", "1"))
    assert refused(sdp_check.check_answer, actpass, GOOD, PREFERRED) == "media.bad_sdp"
    one = sdp(section("video", "0", setup="a=setup:active"))
    assert refused(sdp_check.check_answer, one, GOOD, PREFERRED) == "media.bad_sdp"


@pytest.mark.parametrize(
    "line",
    [
        "candidate:842163049 1 udp 1677729535 127.0.0.1 54321 typ srflx raddr 0.0.0.0 rport 0",
        "a=candidate:1 1 UDP 2130706431 ::1 9 typ host generation 0 ufrag abcd",
        "candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype active",
        "candidate:1 1 udp 1 0b3a4c1e-0000-4000-8000-000000000000.local 9 typ host",
    ],
)
def test_browser_candidates_pass(line: str) -> None:
    assert sdp_check.check_candidate(line).port in (54321, 9)


@pytest.mark.parametrize(
    "line",
    [
        "candidate:garbage",
        "",
        "candidate:1 1 udp 1 127.0.0.1 9 type host",
        "candidate:1 x udp 1 127.0.0.1 9 typ host",
        "candidate:1 1 udp -5 127.0.0.1 9 typ host",
        "candidate:1 1 udp 4294967296 127.0.0.1 9 typ host",
        "candidate:1 1 sctp 1 127.0.0.1 9 typ host",
        "candidate:1 1 udp 1 127.0.0.1 0 typ host",
        "candidate:1 1 udp 1 127.0.0.1 70000 typ host",
        "candidate:1 1 udp 1 999.1.1.1 9 typ host",
        "candidate:1 1 udp 1 school.example 9 typ host",
        "candidate:1 1 udp 1 0.0.0.0 9 typ host",
        "candidate:1 1 udp 1 255.255.255.255 9 typ host",
        "candidate:1 1 udp 1 224.0.0.251 9 typ host",
        "candidate:1 1 udp 1 ff02::1 9 typ host",
        "candidate:1 1 udp 1 127.0.0.1 9 typ magic",
        "candidate:1 1 udp 1 127.0.0.1 9 typ srflx rport 70000",
        "candidate:1 1 udp 1 127.0.0.1 9 typ srflx rport x",
        "candidate:1 1 udp 1 127.0.0.1 9 typ srflx raddr nowhere",
        "candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype sideways",
        "candidate:fo!o 1 udp 1 127.0.0.1 9 typ host",
    ],
)
def test_candidates_ice_cannot_use_are_refused(line: str) -> None:
    assert refused(sdp_check.check_candidate, line) == "media.bad_candidate"


def test_mdns_candidates_are_known_and_never_resolved() -> None:
    name = sdp_check.check_candidate("candidate:1 1 udp 1 abc-1.local 9 typ host")
    assert sdp_check.is_mdns(name)
    assert not sdp_check.is_mdns(sdp_check.check_candidate("candidate:1 1 udp 1 ::1 9 typ host"))


@pytest.mark.parametrize("browser", ["chromium-156", "firefox-153"])
def test_a_real_browsers_offer_passes_cut_to_vp8_with_its_rtx_and_opus(browser: str) -> None:
    offer = sdp_check.check_offer(captured(f"{browser}-publish-offer"))
    assert [s.kind for s in offer.sections] == ["audio", "video"]
    audio, video = sdp_check.parse(offer.sdp).media
    assert [c.mimeType for c in audio.rtp.codecs] == ["audio/opus"]
    vp8, rtx = video.rtp.codecs
    assert (vp8.mimeType, rtx.mimeType, rtx.parameters["apt"]) == (
        "video/VP8",
        "video/rtx",
        vp8.payloadType,
    )
    assert {("nack", None), ("nack", "pli"), ("goog-remb", None)} <= {
        (f.type, f.parameter) for f in vp8.rtcpFeedback
    }
    assert all(m.rtcp_mux for m in (audio, video))


@pytest.mark.parametrize("browser", ["chromium-156", "firefox-153"])
def test_a_real_browsers_answer_to_the_sfus_offer_passes_with_rtcp_mux(browser: str) -> None:
    answer = sdp_check.check_answer(
        captured(f"{browser}-subscribe-answer"), captured("sfu-subscribe-offer"), PREFERRED
    )
    assert all(m.rtcp_mux for m in sdp_check.parse(answer).media)


def test_firefoxs_mdns_names_never_reach_aiortc() -> None:
    """Firefox's a=rtcp names its mDNS host; its answers have no a=rtcp at all.

    aiortc cannot write a name back, and writes a=rtcp-mux only after an
    a=rtcp line, so both become the discard address, and a=rtcp-mux stays.
    """
    name = "c693e6f6-6598-453c-8695-d8a192210973.local"
    offer = sdp(section(c=f"c=IN IP4 {name}", mux=f"a=rtcp:9 IN IP4 {name}\r\na=rtcp-mux"))
    (media,) = sdp_check.parse(sdp_check.check_offer(offer).sdp).media
    assert (media.host, media.rtcp_host, media.rtcp_port, media.rtcp_mux) == (
        "0.0.0.0",
        "0.0.0.0",
        9,
        True,
    )
    (media,) = sdp_check.parse(sdp_check.check_offer(sdp(section(c=None))).sdp).media
    assert (media.rtcp_port, media.rtcp_mux) == (9, True)
    named = sdp(section(mux="a=rtcp:9 IN IP4 school.example\r\na=rtcp-mux"))
    assert refused(sdp_check.check_offer, named) == "media.bad_sdp"


def test_an_offer_of_mdns_candidates_only_leaves_ice_waiting_for_the_clients_checks() -> None:
    """Told "end of candidates" with none left, aioice gives up on the section at once
    (and gathers none of its own for it); the client's checks would have taught it one."""
    end = "a=end-of-candidates"
    mdns = f"a=candidate:0 1 UDP 2122187007 abc-1.local 35505 typ host\r\n{end}"
    (media,) = sdp_check.parse(sdp_check.check_offer(sdp(section(dir=mdns))).sdp).media
    assert (media.ice_candidates, media.ice_candidates_complete) == ([], False)
    known = f"a=candidate:0 1 UDP 2122187007 192.0.2.2 35505 typ host\r\n{end}"
    (media,) = sdp_check.parse(sdp_check.check_offer(sdp(section(dir=known))).sdp).media
    assert (len(media.ice_candidates), media.ice_candidates_complete) == (1, True)


lines = st.lists(st.sampled_from(GOOD.split("\r\n")) | st.text(max_size=60), max_size=40).map(
    "\r\n".join
)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(lines, st.text(max_size=200))
def test_any_text_is_either_taken_or_refused_with_a_media_code(sdp_text: str, line: str) -> None:
    for call, arg in ((sdp_check.check_offer, sdp_text), (sdp_check.check_candidate, line)):
        try:
            call(arg)  # type: ignore[operator]
        except MediaError as exc:
            assert exc.code.startswith("media.")
    try:
        sdp_check.check_answer(sdp_text, GOOD, PREFERRED)
    except MediaError as exc:
        assert exc.code.startswith("media.")
