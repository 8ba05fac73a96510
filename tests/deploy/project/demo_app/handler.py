"""`demo/counter` counts the messages it gets; served as an AWS Lambda handler by baton."""

from statefun import IntType, StatefulFunctions, ValueSpec

from baton.serve import lambda_handler

functions = StatefulFunctions()


@functions.bind("demo/counter", specs=[ValueSpec("count", IntType)])
def counter(context, message):
    context.storage.count = (context.storage.count or 0) + 1


handler = lambda_handler(functions)
