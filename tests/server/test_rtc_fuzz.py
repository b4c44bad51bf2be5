"""Hostile media signalling over a real socket, against the real SFU.

A participant may send any SDP and any candidate. Hypothesis mixes
browser-like offers, answers and candidates with mutated ones (truncated,
lines deleted or repeated, attributes garbled, huge values, wrong kinds, bad
fingerprints, hundreds of m-lines; candidates with missing or garbage fields,
unknown mids and out-of-range indexes) and sends them as ``rtc.*`` and
``media.*`` requests from a teacher and a student in one lesson. Every one
must be answered, with a reply or a refusal that has its own code, never
``server.internal``, and nothing may be logged at ERROR (a traceback in a
request or in a task aiortc started).

One server serves every example: the examples are one long hostile session,
so they are generated, never shrunk (shrinking would replay them against a
state they did not see), from a fixed seed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from media import aiortc_glue
from server.clock import ManualClock
from signaling import rooms as r
from signaling.client import Client, ConnectionClosed, RequestError
from signaling.messages import Message
from tests.conftest import Running, ServerFactory
from tests.media.peers import PatternVideo, Subscriber, ToneAudio
from tests.server.test_chats_ws import CLASS_TEACHER_5A
from tests.server.test_rooms_ws import ANYA, CLASS_5A

EXAMPLES = 600


@dataclass
class Arena:
    """A lesson with a teacher publishing real media and a student subscribed to it."""

    zvonok: Running
    room: str
    clients: dict[str, Client]
    offer: str  # the teacher's real publishing offer (aiortc's, as a browser's would be)
    mids: tuple[str, str]  # its camera's and microphone's mids
    answer: str  # the student's real answer to the SFU's first subscriber offer
    ports: tuple[int, ...]  # UDP ports on 127.0.0.1 that belong to this test
    tracks: set[str] = field(default_factory=set)
    codes: Counter[str] = field(default_factory=Counter)

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return f"Arena(room={self.room!r})"


@pytest.fixture
async def arena(make_server: ServerFactory, clock: ManualClock) -> AsyncIterator[Arena]:
    aiortc_glue.use_host_addresses(["127.0.0.1"])  # process-wide, as tests/media does
    zvonok = await make_server(
        clock, frames_per_second=1e6, frame_burst=1_000_000, max_protocol_errors=1_000_000
    )
    teacher = await zvonok.connect(CLASS_TEACHER_5A)
    room = (await teacher.start_room(CLASS_5A, "lesson", "Урок под обстрелом"))["id"]
    await teacher.join_room(room)
    student = await zvonok.connect(ANYA)
    await student.join_room(room)

    from aiortc import RTCPeerConnection, RTCSessionDescription

    publisher = RTCPeerConnection()
    camera = publisher.addTransceiver(PatternVideo(64, 48, 5), direction="sendonly")
    microphone = publisher.addTransceiver(ToneAudio(), direction="sendonly")
    await publisher.setLocalDescription(await publisher.createOffer())
    offer = publisher.localDescription.sdp
    mids = (str(camera.mid), str(microphone.mid))
    answer = await teacher.publish(room, offer, [(mids[0], "camera"), (mids[1], "microphone")])
    await publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    added = [await student.next_of(r.TrackChanged) for _ in range(2)]
    tracks = {event.track["id"] for event in added}

    subscriber = Subscriber()
    await student.room_request(r.Subscribe(room=room, tracks=tuple(sorted(tracks))))
    sub_answer = await subscriber.answer((await student.next_of(r.RtcOffer)).sdp)
    await student.room_request(r.RtcAnswer(room=room, sdp=sub_answer))

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a port nobody else listens on
    sink.bind(("127.0.0.1", 0))
    ports = (*(int(p) for p in re.findall(r"127\.0\.0\.1 (\d+) typ", offer)), sink.getsockname()[1])
    try:
        yield (
            arena := Arena(
                zvonok=zvonok,
                room=room,
                clients={"teacher": teacher, "student": student},
                offer=offer,
                mids=mids,
                answer=sub_answer,
                ports=ports,
                tracks=tracks,
            )
        )
        codes = arena.codes
        if codes.total() >= EXAMPLES:  # the fuzz ran: it reached the SFU, not only the codec
            reached = ["rtc.publish ok rtc.answer", "rtc.publish media.bad_sdp"]
            reached += ["rtc.answer media.bad_sdp", "rtc.candidate ok room.ok"]
            reached += ["rtc.candidate media.bad_candidate", "media.subscribe ok room.ok"]
            assert all(codes[outcome] for outcome in reached), codes
    finally:
        sink.close()
        await subscriber.close()
        await publisher.close()


# -- SDP mutations -------------------------------------------------------------------------

Lines = list[str]
Mutation = Callable[[Lines], Lines]

garbage = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=40
) | st.sampled_from(["", " ", ":", "-1", "0", "99999999999999999999", "x" * 5000, "\x00", "é"])


def _at(lines: Lines, index: int) -> int:
    return index % len(lines) if lines else 0


def delete(index: int) -> Mutation:
    return lambda lines: lines[: _at(lines, index)] + lines[_at(lines, index) + 1 :]


def duplicate(index: int) -> Mutation:
    return lambda lines: lines[: _at(lines, index) + 1] + lines[_at(lines, index) :]


def swap(a: int, b: int) -> Mutation:
    def mutate(lines: Lines) -> Lines:
        if not lines:
            return lines
        out = list(lines)
        i, j = _at(lines, a), _at(lines, b)
        out[i], out[j] = out[j], out[i]
        return out

    return mutate


def garble_value(index: int, value: str) -> Mutation:
    """Replace what follows the line's first ':' (or '=') with garbage."""

    def mutate(lines: Lines) -> Lines:
        if not lines:
            return lines
        out = list(lines)
        line = out[_at(lines, index)]
        cut = line.find(":") if ":" in line else line.find("=")
        out[_at(lines, index)] = line[: cut + 1] + value
        return out

    return mutate


def garble_number(index: int, value: str) -> Mutation:
    """Replace the first number in a line."""

    def mutate(lines: Lines) -> Lines:
        if not lines:
            return lines
        out = list(lines)
        out[_at(lines, index)] = re.sub(r"\d+", value, out[_at(lines, index)], count=1)
        return out

    return mutate


def replace_attr(prefix: str, value: str) -> Mutation:
    """Every line starting with ``prefix`` gets ``value`` after it."""
    return lambda lines: [prefix + value if line.startswith(prefix) else line for line in lines]


def drop_attr(prefix: str) -> Mutation:
    return lambda lines: [line for line in lines if not line.startswith(prefix)]


def add_line(index: int, line: str) -> Mutation:
    return lambda lines: [*lines[: _at(lines, index)], line, *lines[_at(lines, index) :]]


def repeat_media(times: int) -> Mutation:
    """The media sections again and again (each copy keeps its mid: duplicates)."""

    def mutate(lines: Lines) -> Lines:
        first = next((i for i, line in enumerate(lines) if line.startswith("m=")), len(lines))
        return lines + lines[first:] * times

    return mutate


def renumber_mids(lines: Lines) -> Lines:
    """Unique mids for every section (with repeat_media: many distinct sections)."""
    out: Lines = []
    n = 0
    for line in lines:
        if line.startswith("a=mid:"):
            line = f"a=mid:{n}"
            n += 1
        elif line.startswith("a=group:BUNDLE"):
            continue
        out.append(line)
    return out


def truncate(at: int) -> Mutation:
    return lambda lines: "\r\n".join(lines)[: at % (len("\r\n".join(lines)) + 1)].split("\r\n")


def cut_after_first_media(lines: Lines) -> Lines:
    """The issue's case: ``v=0 ... m=audio`` and nothing else."""
    first = next((i for i, line in enumerate(lines) if line.startswith("m=")), len(lines))
    return [*lines[:first], "m=audio"]


index = st.integers(0, 200)
ATTRS = [
    "a=fingerprint:",
    "a=setup:",
    "a=ice-ufrag:",
    "a=ice-pwd:",
    "a=mid:",
    "a=rtpmap:",
    "a=fmtp:",
    "a=extmap:",
    "a=ssrc:",
    "a=ssrc-group:",
    "a=rtcp:",
    "a=rtcp-fb:",
    "a=group:BUNDLE",
    "a=msid:",
    "a=candidate:",
    "c=",
    "m=",
    "a=sendonly",
    "a=rtcp-mux",
    "a=max-message-size:",
    "a=sctp-port:",
]
SPECIAL_VALUES = [
    "sha-256 00:11",
    "md5 AA:BB",
    "sha-256",
    "holdconn",
    "actpass",
    "active",
    "passive",
    "IN IP4 999.1.1.1",
    "IN IP4 example.com",
    "IN IP6 ::1",
    "audio 9 UDP/TLS/RTP/SAVPF 300",
    "video 9 UDP/TLS/RTP/SAVPF 0",
    "application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "text 9 RTP/AVP 96",
    "video 99999999999 UDP/TLS/RTP/SAVPF 96",
    "audio 9 UDP/TLS/RTP/SAVPF",
    "96 VP8",
    "96 VP8/abc",
    "96 opus/48000/x",
    "97 apt=96",
    "97 apt=x",
    "1 x",
    "BUNDLE 0 1 7",
    "BUNDLE 7",
    "foo 1 udp 1 127.0.0.1 1 typ host",
    "x",
]
mutation = st.one_of(
    st.builds(delete, index),
    st.builds(duplicate, index),
    st.builds(swap, index, index),
    st.builds(garble_value, index, garbage),
    st.builds(garble_number, index, st.sampled_from(["-1", "x", "4294967296", "9" * 30, ""])),
    st.builds(replace_attr, st.sampled_from(ATTRS), st.sampled_from(SPECIAL_VALUES) | garbage),
    st.builds(drop_attr, st.sampled_from(ATTRS)),
    st.builds(
        add_line, index, st.sampled_from(ATTRS).flatmap(lambda a: st.just(a) | st.just(a + "x"))
    ),
    st.builds(repeat_media, st.integers(1, 120)),
    st.just(renumber_mids),
    st.builds(truncate, st.integers(0, 10_000)),
    st.just(cut_after_first_media),
)


MAX_TEXT = 60_000  # an SDP the frame limit (64 KiB with the envelope) lets through
MAX_LINES = MAX_TEXT // 4  # no SDP line is shorter than "a=x" and its CRLF


def mutated(seed: str, mutations: list[Mutation]) -> str:
    lines = seed.rstrip("\r\n").split("\r\n")
    for change in mutations:
        # Repeated m-sections compound: keep the draft near what a frame can hold.
        lines = change(lines)[:MAX_LINES]
    return ("\r\n".join(lines) + "\r\n")[:MAX_TEXT] or "v=0"


# -- candidates ----------------------------------------------------------------------------

ADDRESSES = ["127.0.0.1", "::1", "127.0.0.2", "999.1.1.1", "example.com", "", "1.2.3", "::g"]
BAD_PORTS = ["0", "65536", "70000", "-1", "99999999999999999999", "x", ""]


@st.composite
def candidate_lines(draw: st.DrawFn, ports: tuple[int, ...]) -> str:
    fields = [
        draw(st.sampled_from(["1", "foundation", "x" * 40]) | garbage),
        draw(st.sampled_from(["1", "2", "0", "256", "x"])),
        draw(st.sampled_from(["udp", "UDP", "tcp", "sctp", "x"])),
        draw(st.sampled_from(["2130706431", "1", "0", "-5", "4294967296", "9" * 40, "p"])),
        draw(st.sampled_from(ADDRESSES)),
        draw(st.sampled_from([str(p) for p in ports] + BAD_PORTS)),
        draw(st.sampled_from(["typ", "type", "x"])),
        draw(st.sampled_from(["host", "srflx", "prflx", "relay", "x", ""])),
    ]
    extras = draw(
        st.lists(
            st.sampled_from(
                ["raddr", "rport", "tcptype", "generation", "ufrag", "network-id", "0", "x"]
            )
            | st.sampled_from(["127.0.0.1", "-1", "70000", "passive", "::1", "999.0.0.1"]),
            max_size=6,
        )
    )
    dropped = draw(st.lists(st.integers(0, 7), max_size=3, unique=True))
    kept = [f for i, f in enumerate(fields) if i not in dropped] + extras
    prefix = draw(st.sampled_from(["candidate:", "a=candidate:", "", "candidate: "]))
    return prefix + " ".join(kept)


def candidates(arena: Arena) -> st.SearchStrategy[r.Candidate | None]:
    line = candidate_lines(arena.ports) | garbage.filter(bool)
    return st.none() | st.builds(
        r.Candidate,
        candidate=line,
        sdp_mid=st.none() | st.sampled_from(["0", "1", "2", "7", "x", "z" * 32]),
        sdp_mline_index=st.none() | st.integers(0, 1023),
    )


# -- requests ------------------------------------------------------------------------------

WHO = st.sampled_from(["teacher", "student"])
SOURCES = st.sampled_from(["camera", "microphone", "screen"])


def requests(arena: Arena) -> st.SearchStrategy[tuple[str, Message]]:
    room = arena.room
    camera, microphone = arena.mids
    good_tracks = (
        r.PublishTrack(camera, "camera"),
        r.PublishTrack(microphone, "microphone"),
    )
    tracks = st.sampled_from([good_tracks, good_tracks, good_tracks[:1]]) | st.lists(
        st.builds(
            r.PublishTrack,
            mid=st.sampled_from([camera, microphone, "5", "x", "0" * 32]),
            source=SOURCES,
        ),
        max_size=8,
    ).map(tuple)
    mutations = st.lists(mutation, max_size=4)
    track_ids = st.lists(
        st.sampled_from(sorted(arena.tracks)) | st.sampled_from(["x", "1.camera.1", "t" * 128]),
        max_size=6,
    ).map(tuple)
    publish = st.builds(
        lambda changes, specs: r.RtcPublish(room, mutated(arena.offer, changes), specs),
        mutations,
        tracks,
    )
    answer = st.builds(lambda changes: r.RtcAnswer(room, mutated(arena.answer, changes)), mutations)
    candidate = st.builds(
        r.RtcCandidate,
        room=st.just(room),
        pc=st.sampled_from(["pub", "sub"]),
        candidate=candidates(arena),
    )
    media = st.one_of(
        st.builds(r.Subscribe, room=st.just(room), tracks=track_ids),
        st.builds(r.Unsubscribe, room=st.just(room), tracks=track_ids),
        st.builds(r.Show, room=st.just(room), tracks=st.none() | track_ids),
        st.builds(r.Unpublish, room=st.just(room), source=SOURCES),
    )
    kinds = {"publish": publish, "answer": answer, "candidate": candidate, "media": media}
    weighted = ["publish"] * 4 + ["answer"] * 3 + ["candidate"] * 3 + ["media"] * 2
    return st.tuples(WHO, st.sampled_from(weighted).flatmap(kinds.__getitem__))


async def ask(arena: Arena, who: str, message: Message) -> str:
    """Send one request; the reply's type or the refusal's code."""
    client = arena.clients[who]
    try:
        reply = await client.request(message, timeout=15)
    except RequestError as exc:
        if exc.code == "room.not_in_room":  # the SFU failed its ICE: the grace began
            await client.join_room(arena.room)
        return exc.code
    except ConnectionClosed as exc:
        pytest.fail(f"the server closed the {who}'s connection: {exc}")
    return f"ok {reply.TYPE}"


async def collect_tracks(arena: Arena) -> None:
    """Track ids announced so far (a fuzzed publish makes new ones)."""
    for client in arena.clients.values():
        with contextlib.suppress(TimeoutError):
            while True:
                event = await client.next_event(timeout=0)
                if isinstance(event, r.TrackChanged) and event.change == "added":
                    arena.tracks.add(event.track["id"])


def errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.generate,),
    # One lesson for every example, on purpose: see the module's docstring.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_hostile_media_signalling_never_gets_server_internal(
    arena: Arena, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    who, message = data.draw(requests(arena))
    outcome = await ask(arena, who, message)
    arena.codes[f"{message.TYPE} {outcome}"] += 1
    assert outcome != "server.internal", (who, message)
    logged = errors(caplog)
    assert not logged, [rec.getMessage() for rec in logged]
    await collect_tracks(arena)


async def test_the_reported_requests_get_media_codes(
    arena: Arena, caplog: pytest.LogCaptureFixture
) -> None:
    """The two requests of the report: a truncated offer, and a candidate with neither
    ``sdp_mid`` nor ``sdp_mline_index``."""
    truncated = mutated(arena.offer, [cut_after_first_media])
    assert truncated.startswith("v=0\r\n") and truncated.endswith("\r\nm=audio\r\n")
    publish = r.RtcPublish(arena.room, truncated, (r.PublishTrack(arena.mids[0], "camera"),))
    assert await ask(arena, "teacher", publish) == "media.bad_sdp"
    bare = r.RtcCandidate(
        arena.room, "pub", r.Candidate("candidate:1 1 udp 1 127.0.0.1 9 typ host")
    )
    assert await ask(arena, "teacher", bare) == "message.invalid"
    assert not errors(caplog)


async def test_hostile_sequences_get_their_codes(
    arena: Arena, caplog: pytest.LogCaptureFixture
) -> None:
    """What a hostile participant sends out of turn, each refused with its own code."""
    room, camera, microphone = arena.room, *arena.mids
    specs = (r.PublishTrack(camera, "camera"), r.PublishTrack(microphone, "microphone"))
    # 200 m-lines: refused before aiortc makes a transceiver (or an ICE transport) for each.
    session = arena.offer.split("m=")[0]
    fingerprint = re.findall(r"a=fingerprint:sha-256 \S+", arena.offer)[0]
    huge = session + "".join(
        f"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:{n}\r\na=sendonly\r\na=rtcp-mux\r\n"
        f"a=rtpmap:111 opus/48000/2\r\na=ice-ufrag:abcd\r\na=ice-pwd:{'p' * 22}\r\n"
        f"{fingerprint}\r\na=setup:actpass\r\n"
        for n in range(200)
    )
    assert len(huge) < MAX_TEXT
    assert await ask(arena, "student", r.RtcPublish(room, huge, specs)) == "media.too_many_tracks"
    # A renegotiation that reorders the sections aiortc already has.
    lines = arena.offer.rstrip("\r\n").split("\r\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("m="))
    second = next(i for i, line in enumerate(lines) if i > first and line.startswith("m="))
    swapped = "\r\n".join(lines[:first] + lines[second:] + lines[first:second]) + "\r\n"
    refusal = await ask(arena, "teacher", r.RtcPublish(room, swapped, specs))
    assert refusal == "media.bad_sdp"
    # An answer with no offer pending: the teacher subscribed to nothing.
    answer = r.RtcAnswer(room, arena.answer)
    assert await ask(arena, "teacher", answer) == "media.no_offer"
    # Candidates for a section the connection does not have, and for no connection.
    line = f"candidate:1 1 udp 1 127.0.0.1 {arena.ports[-1]} typ host"
    unknown_mid = r.RtcCandidate(room, "pub", r.Candidate(line, sdp_mid="nope"))
    assert await ask(arena, "teacher", unknown_mid) == "media.bad_candidate"
    past_the_end = r.RtcCandidate(room, "pub", r.Candidate(line, sdp_mline_index=1000))
    assert await ask(arena, "teacher", past_the_end) == "media.bad_candidate"
    assert await ask(arena, "student", r.RtcCandidate(room, "pub", r.Candidate(line, "0"))) == (
        "media.no_connection"
    )
    good = r.RtcCandidate(room, "pub", r.Candidate(line, sdp_mid=camera))
    assert await ask(arena, "teacher", good) == "ok room.ok"
    # After leaving, the connection is closed: a candidate for it finds none.
    await arena.clients["teacher"].leave_room(room)
    assert await ask(arena, "teacher", good) == "room.not_in_room"
    assert not errors(caplog)
