"""The bare baseline: an aiohttp WebSocket broadcast with msgpack, nothing else.

No auth, no storage, no ordering guarantees beyond what falls out of one
event loop.  It speaks just enough of Zvonok's wire shapes that the codec
and network cost per frame are comparable:

* first frame ``{"type": "join", "room": str}``, answered ``{"type": "joined", ...}``;
* ``{"type": "send", "id": n, "body": {"chat": room, "text": str, "key": str}}``
  (byte for byte the frame a Zvonok client sends) is answered to the sender
  with ``{"type": "ack", "id": n, "body": {...}}`` and broadcast to every
  member of the room, sender included, as one ``chat.event`` frame, encoded
  once and written to each socket.

Run: ``python bench/baseline_server.py --port 8090`` (listens on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from typing import Any

import msgpack
import uvloop
from aiohttp import WSMsgType, web

Rooms = dict[str, set[web.WebSocketResponse]]
ROOMS = web.AppKey("rooms", Rooms)
SEQS = web.AppKey("seqs", dict[str, int])


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(compress=False, max_msg_size=256 * 1024)
    await ws.prepare(request)
    rooms: Rooms = request.app[ROOMS]
    seqs: dict[str, int] = request.app[SEQS]
    room: str | None = None
    try:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY:
                continue
            frame: dict[str, Any] = msgpack.unpackb(msg.data)
            kind = frame.get("type")
            if kind == "join" and room is None:
                room = str(frame["room"])
                rooms.setdefault(room, set()).add(ws)
                await ws.send_bytes(msgpack.packb({"type": "joined", "body": {"room": room}}))
            elif kind == "send" and room is not None:
                body = frame["body"]
                chat = body["chat"]
                seq = seqs.get(chat, 0) + 1
                seqs[chat] = seq
                ack = {"chat": chat, "seq": seq, "message_id": seq, "duplicate": False}
                await ws.send_bytes(msgpack.packb({"type": "ack", "id": frame["id"], "body": ack}))
                event = {
                    "type": "chat.event",
                    "body": {
                        "chat": chat,
                        "seq": seq,
                        "kind": "message",
                        "author": 0,
                        "at": time.time(),
                        "data": {"id": seq, "text": body["text"], "reply_to": None},
                    },
                }
                data = msgpack.packb(event)
                for member in list(rooms.get(chat, ())):
                    if not member.closed:
                        await member.send_bytes(data)
    finally:
        if room is not None:
            rooms[room].discard(ws)
    return ws


async def serve(port: int) -> None:
    app = web.Application()
    app[ROOMS] = {}
    app[SEQS] = {}
    app.router.add_get("/ws", websocket)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    print(f"baseline serving on ws://127.0.0.1:{port}/ws", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
