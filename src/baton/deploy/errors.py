"""The one error type of `baton deploy`: what went wrong and how to fix it."""

from __future__ import annotations


class DeployError(Exception):
    """A deploy problem a user can act on; `hint` says how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message
