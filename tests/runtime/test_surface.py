"""A surface a browser cannot abuse, and reading never destroys (issue 12, items 4 and 5)."""

from __future__ import annotations

import aiohttp
import pytest
from statefun import StatefulFunctions

from baton.module import load_module_text
from baton.module.specs import TypeName
from baton.runtime import Runtime
from baton.runtime.admin_guard import AdminSurface, UnsafeAdminBind
from tests.conftest import playground_module
from tests.example.test_cli import baton
from tests.runtime.test_python_sdk import emit

TOKEN = "s3cret-admin-token"
ECHO = TypeName("example", "echo")


def echo_functions() -> StatefulFunctions:
    functions = StatefulFunctions()

    @functions.bind("example/echo")
    async def echo(context, message):
        emit(context, "out", "hello")

    return functions


async def test_head_takes_no_record_from_either_egress(function_server, start_app):
    app = await start_app(playground_module(await function_server(echo_functions())))
    assert await app.send("example/echo/a", "{}") == 202
    await app.runtime.until_idle(10)
    admin_egress = f"{app.admin}/egress/io.statefun.playground/egress/out"
    for url in (f"{app.egress}/out", admin_egress):
        async with app.session.head(url) as response:
            assert response.status == 405
    assert await app.take("out", wait=0) == "hello"  # still there for the GET


async def test_the_ingress_delivers_only_on_put_and_post(function_server, start_app):
    app = await start_app(playground_module(await function_server(echo_functions())))
    url = f"{app.ingress}/example/echo/a"
    for method in ("GET", "HEAD", "DELETE", "OPTIONS", "PATCH"):
        async with app.session.request(method, url) as response:
            assert response.status == 405, method
            assert response.headers["Allow"] == "PUT, POST"
    assert app.runtime.metrics.of(ECHO).messages_in == 0
    for method in ("PUT", "POST"):
        async with app.session.request(
            method, url, data=b"{}", headers={"Content-Type": "application/vnd.example/Json"}
        ) as response:
            assert response.status == 202, method
    await app.runtime.until_idle(10)
    assert [await app.take("out", wait=0) for _ in range(3)] == ["hello", "hello", None]


async def _post(session: aiohttp.ClientSession, url: str, **headers: str) -> tuple[int, str]:
    async with session.post(url, data=b"{}", headers=headers) as response:
        return response.status, await response.text()


async def test_admin_posts_refuse_form_bodies_other_origins_and_rebound_hosts(
    function_server, start_app
):
    app = await start_app(playground_module(await function_server(echo_functions())))
    send = f"{app.admin}/send/example/echo/a"
    typed = "application/vnd.example/Json"
    status, text = await _post(app.session, send, **{"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in text
    status, _ = await _post(app.session, send, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 415
    status, text = await _post(
        app.session, send, **{"Content-Type": typed, "Origin": "http://evil.example"}
    )
    assert status == 403 and "cross-origin" in text
    # DNS rebinding: the page's own origin, but a Host that is not loopback.
    status, text = await _post(
        app.session, send,
        **{"Content-Type": typed, "Host": "evil.example:8081", "Origin": "http://evil.example:8081"},
    )
    assert status == 403 and "not loopback" in text
    async with app.session.get(f"{app.admin}/metrics", headers={"Host": "evil.example"}) as r:
        assert r.status == 403  # reading state is refused to a rebound page too
    assert app.runtime.metrics.of(ECHO).messages_in == 0  # nothing was sent
    host = app.admin.removeprefix("http://")
    status, _ = await _post(app.session, send, **{"Content-Type": typed, "Origin": f"http://{host}"})
    assert status == 202  # same origin
    status, _ = await _post(app.session, send, **{"Content-Type": typed})
    assert status == 202  # a non-browser client


async def test_a_token_guards_every_admin_route(function_server, start_app):
    app = await start_app(
        playground_module(await function_server(echo_functions())), admin_token=TOKEN
    )
    async with app.session.get(f"{app.admin}/metrics") as response:
        assert response.status == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    async with app.session.get(
        f"{app.admin}/metrics", headers={"Authorization": "Bearer wrong"}
    ) as response:
        assert response.status == 401
    async with app.session.get(
        f"{app.admin}/metrics", headers={"Authorization": f"Bearer {TOKEN}", "Host": "baton.internal"}
    ) as response:
        assert response.status == 200  # with a token, any name may be used
    async with app.session.get(f"{app.admin}/health") as response:
        assert response.status == 200  # probes need no token


def test_a_non_loopback_admin_bind_needs_a_token():
    module = load_module_text(playground_module("http://127.0.0.1:9/x"), "module.yaml")
    with pytest.raises(UnsafeAdminBind, match="--admin-token"):
        Runtime(module, admin_host="0.0.0.0")
    with pytest.raises(UnsafeAdminBind, match="must not be empty"):
        AdminSurface("127.0.0.1", "")
    assert AdminSurface("0.0.0.0", TOKEN).token == TOKEN
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        AdminSurface(host)  # loopback needs none


async def test_baton_run_refuses_a_non_loopback_admin_host_without_a_token(tmp_path):
    module = tmp_path / "module.yaml"
    module.write_text(playground_module("http://127.0.0.1:9/x"))
    result = await baton("run", str(module), "--admin-host", "0.0.0.0")
    assert result.exit_code == 2 and "--admin-token" in result.output


async def test_baton_send_sends_a_key_and_the_token(function_server, start_app):
    app = await start_app(
        playground_module(await function_server(echo_functions())), admin_token=TOKEN
    )
    args = ("send", "example/echo/a", "{}", "--type", "example/Json", "--admin", app.admin)
    refused = await baton(*args, env={"BATON_ADMIN_TOKEN": ""})
    assert refused.exit_code == 1 and "HTTP 401" in refused.output
    env = {"BATON_ADMIN_TOKEN": TOKEN}
    first = await baton(*args, "--idempotency-key", "k-1", env=env)
    again = await baton(*args, "--idempotency-key", "k-1", env=env)
    other = await baton(*args, env=env)  # a fresh random key each time
    assert first.exit_code == again.exit_code == other.exit_code == 0, first.output
    assert "not delivered again" in again.output and "sent to" in other.output
    await app.runtime.until_idle(10)
    assert app.runtime.metrics.of(ECHO).messages_in == 2
