"""The example application: orders assembled from out-of-order change events, then fulfilled.

- functions/orders.py   `orders/order`: per-order state, completeness, deadline, alert
- functions/tasks.py    the fulfillment workflow's tasks (plain Python; also Lambda handlers)
- functions/app.py      the StatefulFunctions to serve (`baton serve functions.app:functions`)
- module.yaml           endpoint, playground ingress/egress, the `orders/fulfillment` workflow
- proto/orders.proto    the messages
- `python -m functions` runs it all with a generated stream of events (`make example`)
"""
