from __future__ import annotations

from server.bus import LocalBus


async def test_events_reach_subscribers_of_their_topic_only() -> None:
    bus = LocalBus()
    a = await bus.subscribe("chat.1")
    both = await bus.subscribe("chat.1", "chat.2")
    await bus.publish("chat.1", {"seq": 1})
    await bus.publish("chat.2", {"seq": 2})
    await bus.publish("chat.3", {"seq": 3})
    await bus.close()
    assert [e async for e in a] == [{"seq": 1}]
    assert [e async for e in both] == [{"seq": 1}, {"seq": 2}]


async def test_a_subscriber_that_falls_behind_is_cut_off_not_buffered() -> None:
    bus = LocalBus()
    slow = await bus.subscribe("t", maxsize=2)
    fast = await bus.subscribe("t", maxsize=100)
    for seq in range(5):
        await bus.publish("t", {"seq": seq})
    assert slow.overflowed
    assert [e["seq"] async for e in slow] == [0, 1]
    await fast.close()
    assert [e["seq"] async for e in fast] == [0, 1, 2, 3, 4]
    assert not fast.overflowed


async def test_closed_subscriptions_are_forgotten() -> None:
    bus = LocalBus()
    sub = await bus.subscribe("t")
    await sub.close()
    await bus.publish("t", {"x": 1})
    assert [e async for e in sub] == []
    assert bus._subs == {}
