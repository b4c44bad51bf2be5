"""Kill -9 the server while sends are in flight (the chats issue's durability check).

After the kill every acknowledged message is stored, and nothing
unacknowledged is half there: the database, read before any restart (on
SQLite by its own WAL recovery of a copy of the files, on PostgreSQL by
asking the server, which the kill did not touch), holds each message as a
whole (event, message row, idempotency key) or not at all.  Run on both
engines.  After a restart on the same file the
history shows the same, and retrying every key stores each text exactly once.

A real ``python -m server serve`` process on 127.0.0.1, real sockets, the
load over the WebSocket or the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

import aiohttp
import asyncpg
import pytest

from signaling.chat import AckMsg, ChatInfo, GetChat, History, HistoryPage, Send
from signaling.client import Client, ConnectionClosed
from tests.conftest import Database
from tests.serverproc import ServerProcess

CLASS_5A = "class:sosh-1-5a"
SENDERS = [1000100101 + n for n in range(6)]  # students of 5A in the demo roster
PIPELINE = 4  # sends each sender keeps outstanding
KILL_AFTER_ACKS = 100  # per round
ROUNDS = 3  # of load, kill -9 and restart
TEST_TIMEOUT = 60.0
LIMITS = {
    **{
        f"ZVONOK_CHAT_{tier}{name}": "100000"
        for tier in ("", "STUDENT_", "STAFF_")
        for name in ("SENDS_PER_SECOND", "SEND_BURST", "CHAT_PER_SECOND", "CHAT_BURST")
    },
    "ZVONOK_PROTOCOL_FRAMES_PER_SECOND": "100000",
    "ZVONOK_PROTOCOL_FRAME_BURST": "100000",
}


class Acked(NamedTuple):
    seq: int
    message_id: int
    duplicate: bool


@dataclass
class Outcome:
    """One send of the load: acked, or failed with ``error``."""

    oid: int
    key: str
    text: str
    ack: Acked | None = None
    error: str | None = None


class HttpError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")


class Transport(Protocol):
    # What a send may fail with once the server is killed; anything else is a bug.
    tolerated: tuple[type[BaseException], ...]

    async def send(self, oid: int, key: str, text: str) -> Acked: ...

    async def close(self) -> None: ...


class WsTransport:
    """A WebSocket session per sender; ``send`` is the ``send`` request."""

    tolerated: tuple[type[BaseException], ...] = (
        ConnectionClosed,
        aiohttp.ClientError,
        ConnectionError,
    )

    def __init__(self, clients: dict[int, Client]) -> None:
        self.clients = clients

    @classmethod
    async def open(
        cls, server: ServerProcess, tokens: dict[int, str], http: aiohttp.ClientSession
    ) -> WsTransport:
        transport = cls({})
        for oid, token in tokens.items():
            transport.clients[oid] = await Client.connect(server.ws_url, token, session=http)
        return transport

    async def send(self, oid: int, key: str, text: str) -> Acked:
        reply = await self.clients[oid].request(Send(chat=CLASS_5A, text=text, key=key))
        assert isinstance(reply, AckMsg), reply
        assert reply.chat == CLASS_5A, reply
        return Acked(reply.seq, reply.message_id, reply.duplicate)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()


class HttpTransport:
    """``POST /api/v1/chats/{chat}/messages`` with an ``Idempotency-Key``."""

    tolerated: tuple[type[BaseException], ...] = (aiohttp.ClientError, ConnectionError)

    def __init__(self, server: ServerProcess, tokens: dict[int, str], http: aiohttp.ClientSession):
        self.url = f"{server.base}/api/v1/chats/{quote(CLASS_5A, safe='')}/messages"
        self.tokens = tokens
        self.http = http

    @classmethod
    async def open(
        cls, server: ServerProcess, tokens: dict[int, str], http: aiohttp.ClientSession
    ) -> HttpTransport:
        return cls(server, tokens, http)

    async def send(self, oid: int, key: str, text: str) -> Acked:
        headers = {"Authorization": f"Bearer {self.tokens[oid]}", "Idempotency-Key": key}
        async with self.http.post(self.url, json={"text": text}, headers=headers) as response:
            if response.status not in (200, 201):
                raise HttpError(response.status, await response.text())
            body: dict[str, Any] = await response.json()
        assert body["chat"] == CLASS_5A, body
        assert body["duplicate"] is (response.status == 200), (response.status, body)
        return Acked(body["seq"], body["message_id"], body["duplicate"])

    async def close(self) -> None:
        pass


TRANSPORTS: dict[
    str, Callable[[ServerProcess, dict[int, str], aiohttp.ClientSession], Awaitable[Transport]]
] = {"ws": WsTransport.open, "http": HttpTransport.open}


# --------------------------------------------------------------------------
# The load and the kill
# --------------------------------------------------------------------------


@dataclass
class Load:
    """What one round of load saw; its outcomes go into the test's running record."""

    sends: int = 0
    acked: int = 0
    acked_after_kill: int = 0
    in_flight_at_kill: int = 0
    kill_delay: float = 0.0
    unexpected: list[str] = field(default_factory=list)


async def load_then_kill(
    transport: Transport,
    server: ServerProcess,
    outcomes: dict[str, Outcome],
    counters: dict[int, int],
    rng: random.Random,
) -> Load:
    """Every sender sends with ``PIPELINE`` sends outstanding; SIGKILL after enough acks.

    The kill waits a random fraction of the time the acks took: killed as
    soon as an ack arrives, the server would always die at the same point
    of its cycle (just after a commit), never inside a transaction.  That
    delay places the kill; it synchronises nothing.
    """
    result = Load()
    enough = asyncio.Event()
    killed = asyncio.Event()
    in_flight = 0
    first_ack = 0.0
    started = asyncio.Event()  # a send began (in_flight went up)

    async def one(outcome: Outcome) -> None:
        nonlocal in_flight, first_ack
        in_flight += 1
        started.set()
        try:
            outcome.ack = await transport.send(outcome.oid, outcome.key, outcome.text)
        except Exception as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"
            if not killed.is_set() or not isinstance(exc, transport.tolerated):
                result.unexpected.append(f"{outcome.key}: {outcome.error}")
                enough.set()  # no point in going on: the test fails
        else:
            result.acked += 1
            first_ack = first_ack or time.monotonic()
            if killed.is_set():
                result.acked_after_kill += 1
            if result.acked >= KILL_AFTER_ACKS:
                enough.set()
        finally:
            in_flight -= 1

    async def sender(oid: int) -> None:
        slots = asyncio.Semaphore(PIPELINE)
        tasks: set[asyncio.Task[None]] = set()

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            slots.release()

        while not killed.is_set():
            await slots.acquire()
            if killed.is_set():
                break
            n = counters[oid]
            counters[oid] += 1
            outcome = Outcome(oid, f"{oid}-{n}", f"сообщение {n} от {oid}")
            outcomes[outcome.key] = outcome
            result.sends += 1
            task = asyncio.create_task(one(outcome))
            tasks.add(task)
            task.add_done_callback(done)
        await asyncio.gather(*tasks)

    senders = [asyncio.create_task(sender(oid)) for oid in SENDERS]
    try:
        async with asyncio.timeout(20):
            await enough.wait()
        if not result.unexpected:
            # Jitter, not synchronisation: killed right at an ack, the server
            # is always between two commits; a random instant after it lands
            # inside one (the seed is printed, so a failure replays).
            result.kill_delay = rng.uniform(0.0, (time.monotonic() - first_ack) / 10)
            await asyncio.sleep(result.kill_delay)
            # Group commit acknowledges a batch at once: every send may have
            # just been answered, with the next ones not begun.  Kill when
            # one is out again (a condition, not a delay).
            async with asyncio.timeout(20):
                while in_flight == 0:
                    started.clear()
                    await started.wait()
        result.in_flight_at_kill = in_flight
        killed.set()
        await server.kill()
        async with asyncio.timeout(20):
            await asyncio.gather(*senders)
    finally:
        killed.set()
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
    return result


# --------------------------------------------------------------------------
# What is on disk after the kill
# --------------------------------------------------------------------------


class Event(NamedTuple):
    kind: str
    author: int | None
    message_id: int | None
    data: dict[str, Any]


@dataclass
class Stored:
    last_seq: int
    events: dict[int, Event]  # by seq
    messages: dict[int, tuple[int, str | None]]  # id -> (author, text)
    keys: dict[tuple[int, str], int]  # (person, key) -> seq, for keys pointing into the chat
    wal_bytes: int


def read_database(database: Path, scratch: Path) -> Stored:
    """The chat as SQLite recovers it from a copy of the files the kill left.

    The copy (the database and its WAL, not the shared-memory index) leaves
    the original for the restarted server to recover on its own.
    """
    wal = database.with_name(database.name + "-wal")
    assert wal.exists(), "no WAL: did the server shut down cleanly instead of dying?"
    scratch.mkdir()
    copy = scratch / database.name
    shutil.copyfile(database, copy)
    shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    with contextlib.closing(sqlite3.connect(copy)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        [(last_seq,)] = db.execute("SELECT last_seq FROM chats WHERE id = ?", (CLASS_5A,))
        events = {
            int(seq): Event(kind, author, message_id, json.loads(data))
            for seq, kind, author, message_id, data in db.execute(
                "SELECT seq, kind, author_oid, message_id, data FROM chat_events WHERE chat_id = ?",
                (CLASS_5A,),
            )
        }
        messages = {
            int(mid): (int(author), text)
            for mid, author, text in db.execute(
                "SELECT id, author_oid, text FROM messages WHERE chat_id = ?", (CLASS_5A,)
            )
        }
        keys = {
            (int(oid), str(key)): int(seq)
            for oid, key, seq in db.execute(
                "SELECT person_oid, key, seq FROM idempotency_keys WHERE chat_id = ?", (CLASS_5A,)
            )
        }
    return Stored(int(last_seq), events, messages, keys, wal.stat().st_size)


async def read_postgres(dsn: str) -> Stored:
    """The chat as the PostgreSQL server has it (through a fresh connection)."""
    connection = await asyncpg.connect(dsn)
    try:
        last_seq = await connection.fetchval("SELECT last_seq FROM chats WHERE id = $1", CLASS_5A)
        events = {
            int(r["seq"]): Event(r["kind"], r["author_oid"], r["message_id"], json.loads(r["data"]))
            for r in await connection.fetch(
                "SELECT seq, kind, author_oid, message_id, data FROM chat_events "
                "WHERE chat_id = $1",
                CLASS_5A,
            )
        }
        messages = {
            int(r["id"]): (int(r["author_oid"]), r["text"])
            for r in await connection.fetch(
                "SELECT id, author_oid, text FROM messages WHERE chat_id = $1", CLASS_5A
            )
        }
        keys = {
            (int(r["person_oid"]), str(r["key"])): int(r["seq"])
            for r in await connection.fetch(
                "SELECT person_oid, key, seq FROM idempotency_keys WHERE chat_id = $1", CLASS_5A
            )
        }
    finally:
        await connection.close()
    return Stored(int(last_seq), events, messages, keys, 0)


def check_stored(stored: Stored, outcomes: dict[str, Outcome], start_seq: int) -> None:
    """Every ack is stored whole; everything stored is whole; nothing is half there."""
    # The log has no holes and ends at the chat's last_seq.
    assert sorted(stored.events) == list(range(1, stored.last_seq + 1))
    # Message events and message rows match one to one.
    message_events = {seq for seq, e in stored.events.items() if e.kind == "message"}
    assert set(stored.messages) == message_events, "a message event without its row or back"
    for seq in message_events:
        event = stored.events[seq]
        assert event.message_id == seq == event.data["id"], (seq, event)
        assert stored.messages[seq] == (event.author, event.data["text"]), seq
    # Everything after the load began is one of its messages, each with its key.
    new = {seq: e for seq, e in stored.events.items() if seq > start_seq}
    assert {e.kind for e in new.values()} <= {"message"}
    by_seq = {seq: key for key, seq in stored.keys.items()}
    assert len(by_seq) == len(stored.keys), "two keys name one event"
    assert set(by_seq) == set(new), "a message without its key, or a key without its message"
    for (oid, key), seq in stored.keys.items():
        outcome = outcomes.get(key)
        assert outcome is not None and outcome.oid == oid, f"a key nobody sent: {oid} {key}"
        assert new[seq].author == oid and new[seq].data["text"] == outcome.text, (key, seq)
    # Every acknowledged send is there, at the seq of its ack.
    for outcome in outcomes.values():
        stored_seq = stored.keys.get((outcome.oid, outcome.key))
        if outcome.ack is not None:
            assert stored_seq is not None, f"acked but not stored: {outcome}"
            assert outcome.ack == Acked(stored_seq, stored_seq, False), (outcome, stored_seq)
        elif stored_seq is None:
            assert all(outcome.text != e.data.get("text") for e in stored.events.values()), (
                f"stored without its key: {outcome}"
            )


# --------------------------------------------------------------------------
# After the restart
# --------------------------------------------------------------------------


async def whole_history(client: Client, after: int = 0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for _ in range(1000):
        page = await client.request(History(chat=CLASS_5A, after=after, limit=200))
        assert isinstance(page, HistoryPage)
        events += page.events
        if not page.more:
            return events
        after = page.events[-1]["seq"]
    raise AssertionError("the history never ends")


async def retry_all(transport: Transport, outcomes: Iterable[Outcome]) -> dict[str, Acked]:
    """Send every key again with its text, ``PIPELINE`` at a time per sender."""
    slots = {oid: asyncio.Semaphore(PIPELINE) for oid in SENDERS}
    retried: dict[str, Acked] = {}

    async def one(outcome: Outcome) -> None:
        async with slots[outcome.oid]:
            retried[outcome.key] = await transport.send(outcome.oid, outcome.key, outcome.text)

    await asyncio.gather(*(one(o) for o in outcomes))
    return retried


def as_stored(history: list[dict[str, Any]]) -> list[tuple[int, str, int | None, Any]]:
    return [(e["seq"], e["kind"], e["author"], e["data"]) for e in history]


def recovered(stored: Stored) -> list[tuple[int, str, int | None, Any]]:
    return [(seq, e.kind, e.author, e.data) for seq, e in sorted(stored.events.items())]


@pytest.mark.both_engines
@pytest.mark.parametrize("kind", ["ws", "http"])
async def test_a_kill_9_keeps_every_acked_message_and_no_half_message(
    tmp_path: Path, kind: str, database: Database
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    env = dict(LIMITS)
    if database.engine == "postgresql":
        env["ZVONOK_STORAGE_DATABASE"] = database.dsn
    server = ServerProcess(tmp_path / "server", env=env)

    async def read_stored(scratch: Path) -> Stored:
        if database.engine == "postgresql":
            return await read_postgres(database.dsn)
        return read_database(server.database, scratch)

    sessions: list[aiohttp.ClientSession] = []
    clients: list[Client] = []
    transports: list[Transport] = []
    tokens: dict[int, str] = {}

    async def close_all() -> None:
        for transport in transports:
            await transport.close()
        for client in clients:
            await client.close()
        for session in sessions:
            await session.close()

    async def restart() -> Client:
        """Start the server; a fresh HTTP session and a WebSocket session to read with."""
        await close_all()
        await server.start()
        sessions.append(aiohttp.ClientSession())
        if not tokens:
            idp = server.identity_provider()
            tokens.update({oid: idp.issue(oid, lifetime=3600) for oid in SENDERS})
        client = await Client.connect(server.ws_url, tokens[SENDERS[0]], session=sessions[-1])
        clients.append(client)
        return client

    async def open_transport() -> Transport:
        transport = await TRANSPORTS[kind](server, tokens, sessions[-1])
        transports.append(transport)
        return transport

    outcomes: dict[str, Outcome] = {}
    counters = dict.fromkeys(SENDERS, 0)
    report: list[str] = [f"{kind} on {database.engine}, seed {seed}:"]
    try:
        async with asyncio.timeout(TEST_TIMEOUT):
            reader = await restart()
            info = await reader.request(GetChat(chat=CLASS_5A))
            assert isinstance(info, ChatInfo)
            start_seq: int = info.chat["last_seq"]
            assert start_seq >= 1  # the members event of the seeding
            stored: Stored | None = None

            cut_short = 0  # rounds whose kill left a send unanswered
            for round_no in range(ROUNDS):
                if stored is not None:
                    # The restarted server recovered what SQLite recovered from the copy.
                    reader = await restart()
                    assert as_stored(await whole_history(reader)) == recovered(stored)
                load = await load_then_kill(await open_transport(), server, outcomes, counters, rng)
                assert not load.unexpected, (seed, load.unexpected)
                assert load.acked >= KILL_AFTER_ACKS
                assert load.in_flight_at_kill > 0, "the kill caught no send in flight"
                # Sends out at the kill may all have been committed and their
                # acks on the wire already; over the rounds, one must be cut.
                cut_short += load.sends > load.acked

                # Before any restart: what the database holds is whole.
                stored = await read_stored(tmp_path / f"inspect-{round_no}")
                check_stored(stored, outcomes, start_seq)
                committed = sum(
                    o.ack is None and (o.oid, o.key) in stored.keys for o in outcomes.values()
                )
                report.append(
                    f"round {round_no}: {load.sends} sends, {load.acked} acked "
                    f"({load.acked_after_kill} after the kill), killed "
                    f"{load.kill_delay * 1000:.1f} ms after ack {KILL_AFTER_ACKS} with "
                    f"{load.in_flight_at_kill} in flight; unacked but committed so far: "
                    f"{committed}; last seq {stored.last_seq}"
                    + (f"; WAL {stored.wal_bytes} bytes" if database.path else "")
                )
            assert stored is not None
            assert cut_short, "no kill left a send unanswered: the test tested no loss"

            # After the last kill: retrying every key stores each text exactly once.
            reader = await restart()
            assert as_stored(await whole_history(reader)) == recovered(stored)
            retried = await retry_all(await open_transport(), outcomes.values())
            fresh: list[int] = []
            for outcome in outcomes.values():
                again = retried[outcome.key]
                stored_seq = stored.keys.get((outcome.oid, outcome.key))
                if stored_seq is not None:
                    assert again == Acked(stored_seq, stored_seq, True), (outcome, again)
                else:
                    assert outcome.ack is None
                    assert again.message_id == again.seq > stored.last_seq, (outcome, again)
                    assert not again.duplicate, (outcome, again)
                    fresh.append(again.seq)
            end = stored.last_seq + len(fresh)
            assert sorted(fresh) == list(range(stored.last_seq + 1, end + 1))

            history = await whole_history(reader)
            assert [e["seq"] for e in history] == list(range(1, end + 1))
            assert as_stored(history[: stored.last_seq]) == recovered(stored)
            texts = Counter(e["data"].get("text") for e in history if e["kind"] == "message")
            for outcome in outcomes.values():
                assert texts[outcome.text] == 1, outcome
                event = history[retried[outcome.key].seq - 1]
                assert (event["kind"], event["author"], event["data"]["text"]) == (
                    "message",
                    outcome.oid,
                    outcome.text,
                )
            report.append(f"retried {len(outcomes)} keys: {len(fresh)} stored now")

            await close_all()
            assert await server.stop() == 0, server.stderr()
            assert "Traceback" not in server.stderr(), server.stderr()
            print("\n  ".join(report))
    finally:
        await close_all()
        await server.stop()
