"""The conformance harness: AWS Step Functions executions recorded on AWS, replayed on baton.

One case model (`cases`: where the recordings are, `Case`, `Outcome`), one set of comparison
rules (`compare`), the cases' Lambda functions in-process (`lambdas`), and two runners: the
engine alone on a virtual clock (`on_engine`) and the whole runtime (`through_runtime`).
It is test code: the product package (`baton`) does not import it.
"""
