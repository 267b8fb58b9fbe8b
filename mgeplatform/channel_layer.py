"""The channel layer for a single web process.

channels' InMemoryChannelLayer looks through every channel and every group
for expired messages on every send to a group and every receive. Each open
socket is a channel and each interview a group, so with hundreds of
interviews streaming replies that sweep ran for every streamed word, and
the work per message grew with the number of open sockets. Here the sweep
runs at most once per `clean_interval` seconds; messages still expire after
`expiry` (a little later at worst). A message to a group is put on each
member's queue directly (the queues never block), not through a task per
member.
"""

from __future__ import annotations

import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer


class LocalChannelLayer(InMemoryChannelLayer):
    def __init__(self, clean_interval: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.clean_interval = clean_interval
        self._cleaned_at = 0.0

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._cleaned_at < self.clean_interval:
            return
        self._cleaned_at = now
        super()._clean_expired()

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            try:
                await self.send(channel, message)
            except ChannelFull:
                pass  # as channels does: a full tab misses the message, the others still get it
