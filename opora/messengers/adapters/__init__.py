"""Messenger adapters by channel name: `get_adapter(account)` gives the account's adapter."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from opora.messengers.adapters.base import (
    Button,
    ChannelAdapter,
    InboundMessage,
    SendError,
)

if TYPE_CHECKING:
    from opora.messengers.models import ChannelAccount

_ADAPTERS: dict[str, type[ChannelAdapter]] = {}


def register(name: str) -> Callable[[type[ChannelAdapter]], type[ChannelAdapter]]:
    def decorator(cls: type[ChannelAdapter]) -> type[ChannelAdapter]:
        cls.channel = name
        _ADAPTERS[name] = cls
        return cls

    return decorator


def adapter_names() -> list[str]:
    return sorted(_ADAPTERS)


def get_adapter(account: ChannelAccount) -> ChannelAdapter:
    try:
        return _ADAPTERS[account.channel](account)
    except KeyError:
        raise LookupError(f"no adapter for channel {account.channel!r}") from None


# Importing the modules registers the adapters.
from opora.messengers.adapters import telegram, viber, vk, whatsapp  # noqa: E402, F401

__all__ = [
    "Button",
    "ChannelAdapter",
    "InboundMessage",
    "SendError",
    "adapter_names",
    "get_adapter",
    "register",
]
