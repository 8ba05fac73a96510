"""A small client for a running runtime's admin API (used by the CLI commands beside it)."""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request

DEFAULT_ADMIN = "http://127.0.0.1:8081"


class AdminError(Exception):
    """The admin API could not be reached or refused the request; the text says what to do."""


class AdminClient:
    """JSON over HTTP to `baton run`'s admin API."""

    def __init__(
        self, base_url: str = DEFAULT_ADMIN, timeout: float = 30.0, token: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # The admin API's bearer token (`baton run --admin-token`), if it requires one.
        self.token = token if token is not None else os.environ.get("BATON_ADMIN_TOKEN")

    def request(
        self, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None, timeout: float | None = None,
    ) -> tuple[int, bytes]:
        """Send a request; (status, body). 4xx/5xx come back as statuses, not exceptions.

        Raises AdminError when the runtime cannot be reached, ValueError for a malformed URL.
        """
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (http.client.InvalidURL, ValueError) as error:  # no scheme, a bad port, ...
            raise ValueError(f"{self.base_url!r} is not a URL ({error})") from None
        except (urllib.error.URLError, OSError) as error:
            raise AdminError(
                f"cannot reach the baton admin API at {self.base_url} ({error}); is `baton run` "
                "running? Pass --admin URL if it listens elsewhere"
            ) from None
