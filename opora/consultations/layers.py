"""Channel layers for the rooms: the embedded in-memory one, and channels-redis with a waiting pool.

`InMemoryChannelLayer` (the default without a Redis server): Channels' in-memory layer without its
per-message sweep.

Channels' `InMemoryChannelLayer` walks every channel queue and every group membership on each
`receive` and `group_send`, to drop messages older than `expiry`. Every open room socket has a
channel waiting in `receive`, so each relayed message costs two walks over all of them: with 1,000
sockets in one process that sweep alone took a whole core, and the relay queued up to a p99 of
44 s (`bench/ws.py`, docs/PERFORMANCE.md). Here the same sweep runs at most once a second, so
expiry still holds (a message is dropped within `expiry` + 1 s instead of exactly at `expiry`),
and `group_send` puts the message on each member's queue directly instead of starting one task per
member.

`RedisChannelLayer` (production, REDIS_URL): channels-redis, whose connection pool waits for a free
connection instead of failing. redis-py caps a pool at 100 connections by default and raises
`MaxConnectionsError` beyond; channels-redis holds one connection per operation in flight (every
send, group_send, group_add), so with 1,000 sockets in one process a burst (rooms opening, ICE
candidates after an admit) crashed consumers with "Too many connections".
"""

import time
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels_redis.core import RedisChannelLayer as ChannelsRedisChannelLayer
from redis.asyncio import BlockingConnectionPool


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    sweep_interval = 1.0  # seconds between two sweeps for expired messages and group memberships

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_interval
        super()._clean_expired()  # type: ignore[misc]  # private in Channels, absent from its stubs

    async def flush(self) -> None:
        await super().flush()
        self._next_sweep = 0.0

    async def group_send(self, group: str, message: dict) -> None:
        assert isinstance(message, dict), "Message is not a dict"  # noqa: S101 - Channels' contract
        self.require_valid_group_name(group)
        self._clean_expired()
        # `send` never waits here (a bounded queue's put_nowait), so one after another is enough.
        for channel in list(self.groups.get(group, ())):
            try:
                await self.send(channel, message)
            except ChannelFull:
                pass  # as Channels: a full member misses this message, the others get it


class RedisChannelLayer(ChannelsRedisChannelLayer):
    """`pool_size` connections per Redis host at most; an operation waits up to `pool_timeout`
    seconds for one (then redis-py raises `ConnectionError`, as it would for a Redis that is down)."""

    def __init__(
        self, *args: Any, pool_size: int = 100, pool_timeout: float = 20, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pool_size, self.pool_timeout = pool_size, pool_timeout

    def create_pool(self, index: int) -> Any:
        host = dict(self.hosts[index])
        if "address" not in host:
            return super().create_pool(index)  # Sentinel or host/port entries: channels-redis' own
        return BlockingConnectionPool.from_url(
            host.pop("address"), max_connections=self.pool_size, timeout=self.pool_timeout, **host
        )
