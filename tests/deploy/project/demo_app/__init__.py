"""A tiny StateFun application packaged by the deploy tests."""
