"""The embedded StateFun-compatible runtime."""

from baton.runtime.address import Address
from baton.runtime.messages import Message
from baton.runtime.runtime import Listener, Runtime
from baton.runtime.store import MemoryStore, Store

__all__ = ["Address", "Listener", "MemoryStore", "Message", "Runtime", "Store"]
