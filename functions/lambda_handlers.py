"""The fulfillment tasks as AWS Lambda handlers, unchanged: `handler(event, context) -> output`.

Deploy one per task (handler `functions.lambda_handlers.charge_payment`, ...) and point the
workflow's Task at its ARN instead of the StateFun function type, e.g. in module.yaml:

    ChargePayment:
      Type: Task
      Resource: arn:aws:lambda:eu-west-1:123456789012:function:orders-charge-payment

Errors keep their names (`PaymentDeclined`, ...), so the workflow's Retry/Catch work the same.
"""

from __future__ import annotations

from functions.tasks import tasks

charge_payment = tasks.lambda_handler("orders/charge-payment")
reserve_inventory = tasks.lambda_handler("orders/reserve-inventory")
check_fraud = tasks.lambda_handler("orders/check-fraud")
ship = tasks.lambda_handler("orders/ship")
refund_payment = tasks.lambda_handler("orders/refund-payment")
release_inventory = tasks.lambda_handler("orders/release-inventory")
