"""The console is behind the admin port's guard: foreign Hosts (DNS rebinding) and cross-origin
state changes (CSRF) are refused, the console's own requests and the CLI's are answered."""

from __future__ import annotations

from tests.conftest import playground_module
from tests.runtime.test_python_sdk import greeter_functions


async def test_foreign_hosts_and_origins_are_refused(function_server, start_app):
    app = await start_app(playground_module(await function_server(greeter_functions())))
    port = app.admin.rsplit(":", 1)[1]
    session = app.session

    async with session.get(f"{app.admin}/", headers={"Host": f"rebound.invalid:{port}"}) as r:
        assert r.status == 403 and "is not loopback" in await r.text()
    async with session.get(f"{app.admin}/", headers={"Host": f"localhost:{port}"}) as r:
        assert r.status == 200 and "<title>Function types · baton</title>" in await r.text()

    resume = f"{app.admin}/dead-letters/0/resend"
    async with session.post(resume, headers={"Origin": "http://attacker.invalid"}) as r:
        assert r.status == 403 and "cross-origin request refused" in await r.text()
    async with session.post(resume, headers={"Origin": "null"}) as r:
        assert r.status == 403
    # The same origin (the console's fetch), or none (curl, the CLI): answered.
    async with session.post(resume, headers={"Origin": app.admin}) as r:
        assert r.status == 404 and "no dead letter 0" in await r.text()
    async with session.post(resume) as r:
        assert r.status == 404


async def test_console_pages_answer_and_say_what_is_missing(function_server, start_app):
    app = await start_app(playground_module(await function_server(greeter_functions())))
    for path, expected in [
        ("/console/addresses?type=nonsense", "is not a function type"),
        ("/console/find?address=nope", "is not an address"),
        ("/console/workflows/example/person/x", "No workflow execution at"),
        ("/console/parked", "No parked addresses"),
        ("/console/dead-letters", "No dead letters"),
    ]:
        async with app.session.get(f"{app.admin}{path}") as r:
            assert expected in await r.text(), path
    async with app.session.get(f"{app.admin}/console/static/console.css") as r:
        assert r.status == 200 and r.content_type == "text/css"
    async with app.session.get(f"{app.admin}/console/static/..%2Fpages.py") as r:
        assert r.status == 404


async def test_console_links_escape_ids(function_server, start_app):
    import json
    import re

    app = await start_app(playground_module(await function_server(greeter_functions())))
    assert await app.send("example/person/a%20b%3F", json.dumps({"name": "a b?"})) == 202
    await app.runtime.until_idle(10)
    async with app.session.get(f"{app.admin}/console/addresses?type=example/person") as r:
        (href,) = re.findall(r'href="(/console/state/[^"]+)"', await r.text())
    assert href == "/console/state/example/person/a%20b%3F"
    async with app.session.get(f"{app.admin}{href}") as r:
        page = await r.text()
    assert "example/person/a b?" in page and 'data-state="visits"' in page
    async with app.session.get(f"{app.admin}/console/find", params={"address": "example/person/a b?"},
                               allow_redirects=False) as r:
        assert r.headers["Location"] == href
