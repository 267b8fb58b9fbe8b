"""The single-process channel layer: what reaches a tab, and what expires."""

import asyncio

from mgeplatform.channel_layer import LocalChannelLayer


async def test_every_member_of_a_group_gets_every_message_in_order():
    layer = LocalChannelLayer()
    tabs = [await layer.new_channel() for _ in range(3)]
    for tab in tabs:
        await layer.group_add("interview.1", tab)
    for i in range(50):
        await layer.group_send("interview.1", {"type": "interview.event", "i": i})
    for tab in tabs:
        got = [(await layer.receive(tab))["i"] for _ in range(50)]
        assert got == list(range(50))


async def test_a_message_nobody_collects_still_expires_and_its_tab_leaves_the_group():
    """A closed tab that never said goodbye must not keep collecting messages."""
    layer = LocalChannelLayer(expiry=0.2, clean_interval=0.1)
    gone, alive = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("interview.1", gone)
    await layer.group_add("interview.1", alive)
    await layer.group_send("interview.1", {"type": "interview.event", "i": 1})
    assert (await layer.receive(alive))["i"] == 1
    await asyncio.sleep(0.35)
    await layer.group_send("interview.1", {"type": "interview.event", "i": 2})  # sweeps: `gone`'s message expired
    assert gone not in layer.groups["interview.1"]
    assert gone not in layer.channels
    assert (await layer.receive(alive))["i"] == 2
