"""Workflows: Amazon States Language state machines run on baton."""
