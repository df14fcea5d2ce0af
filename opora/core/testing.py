"""Test helpers that belong to the floor: nothing here imports an app of Opora. The factories of
services, staff and the rest are in `opora.demo.factories`."""

import functools
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync


def run_async(coro_fn):
    """Run an async test without pytest-asyncio (not a dependency here), in a thread of its own:
    Playwright's sync API may have left an event loop in this one."""

    @functools.wraps(coro_fn)
    def wrapper(*args, **kwargs):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(async_to_sync(coro_fn), *args, **kwargs).result()

    return wrapper
