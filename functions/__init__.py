"""The example application's functions, written with the official StateFun Python SDK."""
