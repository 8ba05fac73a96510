"""The embedded StateFun-compatible runtime."""

from baton.runtime.address import Address, InvalidAddress
from baton.runtime.admission import Limits, Refused
from baton.runtime.api import Listener, RuntimeAPI, RuntimeStatus
from baton.runtime.clock import SYSTEM_CLOCK, Clock, SystemClock
from baton.runtime.extension import RuntimeExtension
from baton.runtime.messages import Message
from baton.runtime.runtime import Runtime
from baton.runtime.store import MemoryStore, Store

__all__ = [
    "SYSTEM_CLOCK",
    "Address",
    "Clock",
    "InvalidAddress",
    "Limits",
    "Listener",
    "MemoryStore",
    "Message",
    "Refused",
    "Runtime",
    "RuntimeAPI",
    "RuntimeExtension",
    "RuntimeStatus",
    "Store",
    "SystemClock",
]
