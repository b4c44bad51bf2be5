"""A lesson over networks as they are (issue 16, point 4), in real Chromium.

A pupil behind a NAT that lets only TURN through: his page is made to use
relay candidates only (``iceTransportPolicy: "relay"``) and reaches the SFU
through a real coturn, with the time-limited credential the server hands
out in ``room.joined``. And a pupil whose network is cut for five seconds,
all of it: the page goes offline (its WebSocket drops) and his media,
which goes through TURN, passes a gate the test closes. He comes back by
himself, within the grace period, with his raised hand and his media, on a
new peer connection.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.media.coturn import Coturn, running_coturn
from tests.signin_server import SignInServer
from tests.web.conftest import keep_last
from tests.web.lesson import (
    ARTEM,
    LAPTOP,
    PHONE,
    TEACHER,
    Start,
    join_from_list,
    lesson_server,
    media_grows,
    signed_in,
    start_room,
    tile,
    tile_plays,
)

CUT = 5.0  # seconds the pupil's network is gone: the scenario's own length, not a wait

# Every candidate pair the page's connections selected: the local side's type.
SELECTED_TYPES = """async () => {
  const types = [];
  for (const pc of window.__peers) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type !== "transport" || s.selectedCandidatePairId === undefined) return;
      const pair = stats.get(s.selectedCandidatePairId);
      types.push(stats.get(pair.localCandidateId).candidateType);
    });
  }
  return types;
}"""


class Gate(asyncio.DatagramProtocol):
    """A UDP hop between the pupil's browser and coturn that the test can close:
    while closed, every datagram either way is dropped, as on a dead network."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.open = True
        self.transport: asyncio.DatagramTransport | None = None
        self._routes: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        self._opening: dict[tuple[str, int], asyncio.Task[None]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.open:
            return
        route = self._routes.get(addr)
        if route is not None:
            route.sendto(data)
            return
        if addr in self._opening:
            return  # its route is being opened: a retransmission, dropped as on any hop
        task = asyncio.get_running_loop().create_task(self._route(addr, data))
        self._opening[addr] = task
        task.add_done_callback(lambda _: self._opening.pop(addr, None))

    async def _route(self, client: tuple[str, int], first: bytes) -> None:
        """One socket towards coturn per browser socket, so coturn sees each apart."""
        gate = self

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                if gate.open and gate.transport is not None:
                    gate.transport.sendto(data, client)

        loop = asyncio.get_running_loop()
        route, _ = await loop.create_datagram_endpoint(Back, remote_addr=self.upstream)
        self._routes[client] = route
        route.sendto(first)

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port

    def close(self) -> None:
        for task in self._opening.values():
            task.cancel()
        for route in self._routes.values():
            route.close()
        if self.transport is not None:
            self.transport.close()


@asynccontextmanager
async def gate_to(coturn: Coturn) -> AsyncIterator[Gate]:
    loop = asyncio.get_running_loop()
    transport, gate = await loop.create_datagram_endpoint(
        lambda: Gate(coturn.address), local_addr=("127.0.0.1", 0)
    )
    gate.transport = transport  # connection_made comes a loop turn later
    try:
        yield gate
    finally:
        gate.close()


def turn_url(address: tuple[str, int]) -> str:
    return f"turn:{address[0]}:{address[1]}?transport=udp"


async def relayed(page: Page, connections: int) -> None:
    """The page has ``connections`` connected peer connections, each on a relay candidate."""
    await page.wait_for_function(
        "(n) => window.__peers.filter((pc) => pc.connectionState === 'connected').length >= n",
        arg=connections,
        timeout=20_000,
    )
    types = await page.evaluate(SELECTED_TYPES)
    assert types and set(types) == {"relay"}, types


async def two_contexts(browser: Browser) -> list[BrowserContext]:
    return [
        await browser.new_context(locale="ru-RU", viewport=LAPTOP),
        await browser.new_context(locale="ru-RU", viewport=PHONE),
    ]


async def test_a_pupil_who_only_gets_through_turn_has_media_through_coturn(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path, tmp_path: Path
) -> None:
    with running_coturn(tmp_path) as coturn:
        server = await lesson_server(
            start_sign_in_server, turn_urls=(turn_url(coturn.address),), turn_secret=coturn.secret
        )
        contexts = await two_contexts(media_chromium)
        teacher, artem = [await c.new_page() for c in contexts]
        try:
            await signed_in(teacher, server.base, TEACHER)
            await start_room(teacher, "Литературное чтение")
            await signed_in(artem, server.base, ARTEM, relay_only=True)
            await join_from_list(artem, "Литературное чтение")

            await tile_plays(artem, TEACHER)
            await media_grows(artem, "audio")
            await tile_plays(teacher, ARTEM)  # his camera goes out through coturn too
            await relayed(artem, 2)
            await artem.screenshot(path=artifacts / "01-artem-through-turn.png")
        finally:
            await keep_last(artifacts, teacher=teacher, artem=artem)
            for context in contexts:
                await context.close()


async def hand_up_through_turn(
    server: SignInServer, teacher: Page, artem: Page, title: str
) -> tuple[Locator, int]:
    """The teacher's lesson, Артём in it through TURN only with his hand up:
    his row on the teacher's page, and how many connections his page made."""
    await signed_in(teacher, server.base, TEACHER)
    await start_room(teacher, title)
    await signed_in(artem, server.base, ARTEM, relay_only=True)
    await join_from_list(artem, title)
    await tile_plays(artem, TEACHER)
    await relayed(artem, 2)
    await artem.get_by_role("button", name="Поднять руку").click()
    artem_row = teacher.locator(".people-list .person", has_text=ARTEM)
    await expect(artem_row.get_by_label("поднял(а) руку")).to_be_visible()
    connections: int = await artem.evaluate("window.__peers.length")
    return artem_row, connections


async def test_a_pupil_cut_off_for_five_seconds_comes_back_with_his_hand_and_media(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path, tmp_path: Path
) -> None:
    with running_coturn(tmp_path) as coturn:
        async with gate_to(coturn) as gate:
            server = await lesson_server(
                start_sign_in_server, turn_urls=(turn_url(gate.address),), turn_secret=coturn.secret
            )
            contexts = await two_contexts(media_chromium)
            teacher, artem = [await c.new_page() for c in contexts]
            try:
                artem_row, connections = await hand_up_through_turn(
                    server, teacher, artem, "Русский язык"
                )

                # The network goes: socket and media both.
                gate.open = False
                await contexts[1].set_offline(True)
                await expect(artem_row).to_contain_text("нет связи")
                await artem.screenshot(path=artifacts / "01-artem-cut-off.png")
                await asyncio.sleep(CUT)
                gate.open = True
                await contexts[1].set_offline(False)

                # Back by himself: his place (the raised hand), and media on new connections.
                await expect(artem_row).not_to_contain_text("нет связи", timeout=20_000)
                await expect(artem_row.get_by_label("поднял(а) руку")).to_be_visible()
                await expect(artem.get_by_role("button", name="Опустить руку")).to_be_visible()
                await tile_plays(artem, TEACHER)
                await media_grows(artem, "audio")
                await tile_plays(teacher, ARTEM)
                assert await artem.evaluate("window.__peers.length") > connections
                await relayed(artem, 2)
                await expect(tile(teacher, ARTEM)).to_have_class(re.compile(r"\braised\b"))
                await artem.screenshot(path=artifacts / "02-artem-back.png")
                await teacher.screenshot(path=artifacts / "03-teacher-sees-him-back.png")
            finally:
                await keep_last(artifacts, teacher=teacher, artem=artem)
                for context in contexts:
                    await context.close()


async def test_media_lost_while_the_socket_stays_comes_back_on_new_connections(
    start_sign_in_server: Start, media_chromium: Browser, artifacts: Path, tmp_path: Path
) -> None:
    """A new network that lets the socket through but not the old media path
    (Wi-Fi to mobile, UDP blocked for a while): the page sees its peer
    connections fail and starts them afresh by itself, his place unchanged."""
    with running_coturn(tmp_path) as coturn:
        async with gate_to(coturn) as gate:
            server = await lesson_server(
                start_sign_in_server, turn_urls=(turn_url(gate.address),), turn_secret=coturn.secret
            )
            contexts = await two_contexts(media_chromium)
            teacher, artem = [await c.new_page() for c in contexts]
            try:
                artem_row, connections = await hand_up_through_turn(
                    server, teacher, artem, "Музыка"
                )

                # The media path goes; the socket stays. Chromium calls the
                # connections disconnected within seconds, and the page, after
                # DISCONNECTED_GRACE more, makes new ones (still cut off here).
                gate.open = False
                await artem.wait_for_function(
                    "(n) => window.__peers.length > n", arg=connections, timeout=30_000
                )
                await artem.screenshot(path=artifacts / "01-artem-recovering.png")
                gate.open = True

                await tile_plays(artem, TEACHER)
                await tile_plays(teacher, ARTEM)
                await relayed(artem, 2)
                await expect(artem_row.get_by_label("поднял(а) руку")).to_be_visible()
                await expect(artem_row).not_to_contain_text("нет связи")
                await artem.screenshot(path=artifacts / "02-artem-back.png")
            finally:
                await keep_last(artifacts, teacher=teacher, artem=artem)
                for context in contexts:
                    await context.close()
