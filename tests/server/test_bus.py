from __future__ import annotations

from typing import Any

from server.bus import Event, LocalBus


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def __call__(self, topic: str, event: Event) -> None:
        self.seen.append((topic, event["seq"]))


async def test_events_reach_subscribers_of_their_topic_only() -> None:
    bus = LocalBus()
    a, both = Recorder(), Recorder()
    await bus.subscribe("chat.1", a)
    await bus.subscribe("chat.1", both)
    await bus.subscribe("chat.2", both)
    await bus.publish("chat.1", {"seq": 1})
    await bus.publish("chat.2", {"seq": 2})
    await bus.publish("chat.3", {"seq": 3})
    assert a.seen == [("chat.1", 1)]
    assert both.seen == [("chat.1", 1), ("chat.2", 2)]


async def test_subscribing_twice_delivers_once_and_unsubscribe_forgets_the_topic() -> None:
    bus = LocalBus()
    rec = Recorder()
    await bus.subscribe("t", rec)
    await bus.subscribe("t", rec)
    await bus.publish("t", {"seq": 1})
    await bus.unsubscribe("t", rec)
    await bus.unsubscribe("t", rec)  # harmless
    await bus.publish("t", {"seq": 2})
    assert rec.seen == [("t", 1)]
    assert bus.topics == 0


async def test_a_failing_handler_does_not_stop_the_others() -> None:
    bus = LocalBus()
    rec = Recorder()

    def broken(topic: str, event: Event) -> None:
        raise RuntimeError("bug")

    await bus.subscribe("t", broken)
    await bus.subscribe("t", rec)
    await bus.publish("t", {"seq": 1})
    assert rec.seen == [("t", 1)]


async def test_a_handler_may_unsubscribe_while_being_called() -> None:
    bus = LocalBus()
    rec = Recorder()
    calls: list[int] = []

    def once(topic: str, event: Event) -> None:
        calls.append(event["seq"])
        bus._handlers[topic].remove(once)

    await bus.subscribe("t", once)
    await bus.subscribe("t", rec)
    await bus.publish("t", {"seq": 1})
    await bus.publish("t", {"seq": 2})
    assert calls == [1]
    assert rec.seen == [("t", 1), ("t", 2)]
