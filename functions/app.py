"""The example's StatefulFunctions: `orders/order` and the fulfillment workflow's tasks.

Serve them on their own (for `baton run module.yaml`, or a real StateFun cluster):

    uv run baton serve functions.app:functions --port 8000
"""

from __future__ import annotations

from functions import orders
from functions.tasks import tasks

functions = tasks.functions
functions.register(orders.ORDER_TYPE, orders.order, specs=orders.SPECS)
