"""A loopback proxy in front of moto that makes Kinesis PutRecords throttle and partly fail.

moto never throttles; real Kinesis does, per shard, and answers PutRecords either with
`ProvisionedThroughputExceededException` for the whole call or with some entries failed. The
proxy forwards everything to moto unchanged, except the first PutRecords calls:
- the first `throttle` calls answer 400 ProvisionedThroughputExceededException (nothing stored);
- the next `partial` calls store only the even entries in moto and report the odd ones failed,
  exactly as Kinesis reports a partial failure.
"""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web

PUT_RECORDS = "Kinesis_20131202.PutRecords"
_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection"}


class ThrottlingProxy:
    def __init__(self, upstream: str, *, throttle: int, partial: int) -> None:
        self.upstream = upstream
        self.throttle_left, self.partial_left = throttle, partial
        self.throttled = 0  # calls answered with a throttling error
        self.failed_entries = 0  # entries reported failed (and not stored)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> ThrottlingProxy:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None and self._session is not None
        await self._runner.cleanup()
        await self._session.close()

    async def _forward(self, request: web.Request, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(request.method, self.upstream + request.path_qs,
                                         headers=headers, data=body) as response:
            out = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
            return response.status, await response.read(), out

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("X-Amz-Target") != PUT_RECORDS:
            status, data, headers = await self._forward(request, body)
            return web.Response(status=status, body=data, headers=headers)
        if self.throttle_left > 0:
            self.throttle_left -= 1
            self.throttled += 1
            return web.json_response(
                {"__type": "ProvisionedThroughputExceededException", "message": "Rate exceeded for shard"},
                status=400, content_type="application/x-amz-json-1.1",
            )
        if self.partial_left > 0 and len(json.loads(body)["Records"]) > 1:
            self.partial_left -= 1
            return await self._partial(request, body)
        status, data, headers = await self._forward(request, body)
        return web.Response(status=status, body=data, headers=headers)

    async def _partial(self, request: web.Request, body: bytes) -> web.Response:
        call = json.loads(body)
        entries = call["Records"]
        call["Records"] = entries[::2]
        status, data, _ = await self._forward(request, json.dumps(call).encode())
        assert status == 200, data
        stored = iter(json.loads(data)["Records"])
        results = []
        for index in range(len(entries)):
            if index % 2 == 0:
                results.append(next(stored))
            else:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException",
                                "ErrorMessage": "Rate exceeded for shard"})
                self.failed_entries += 1
        return web.json_response({"FailedRecordCount": len(entries) // 2, "Records": results},
                                 content_type="application/x-amz-json-1.1")

