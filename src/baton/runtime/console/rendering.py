"""The console's layout, templates and bundled assets, shared with extensions' console pages.

An extension adds a page with an admin route named `console:<Title>` (`console_link`) that
answers `render_page(request, ...)`; the navigation lists every such route, so the runtime
knows no extension's pages.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

_LINK_PREFIX = "console:"
_ASSETS = files("baton.runtime.console") / "static"


def console_link(title: str) -> str:
    """The route name that puts a page in the console's navigation under `title` (words)."""
    return f"{_LINK_PREFIX}{title.replace(' ', '_')}"  # aiohttp route names are identifiers


def when(at: float | None) -> str:
    """`2026-11-30 16:50:01 UTC (3 min ago)`; an empty string for None."""
    if at is None:
        return ""
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = at - time.time()
    span = abs(delta)
    amount = (
        f"{span:.0f} s" if span < 120 else f"{span / 60:.0f} min" if span < 7200 else f"{span / 3600:.1f} h"
    )
    return f"{stamp} ({'in ' + amount if delta > 0 else amount + ' ago'})"


def clock(at: float) -> str:
    """`16:50:01` (UTC): a step's time next to its neighbours'."""
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S")


def path(address: Any) -> str:
    """An address as URL path segments (`namespace/type/id`, each part escaped)."""
    return "/".join(quote(part, safe="") for part in address)


def pretty(value: Any) -> str:
    """A decoded value as indented JSON (the console shows it in a <pre>)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def environment(*packages: str) -> jinja2.Environment:
    """A Jinja environment over the console's templates plus those of `packages` (e.g. an
    extension's own `templates/` folder), with the console's filters."""
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader(p, "templates") for p in packages]
    loaders.append(jinja2.PackageLoader("baton.runtime.console", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["pretty"] = pretty
    env.filters["clock"] = clock
    env.filters["path"] = path
    return env


def _navigation(request: web.Request) -> list[tuple[str, str]]:
    """(title, path) of every console page, the runtime's first, then extensions'."""
    links = []
    for name, resource in request.app.router.named_resources().items():
        if name.startswith(_LINK_PREFIX):
            links.append((name[len(_LINK_PREFIX):].replace("_", " "), resource.canonical))
    return links


def render_page(
    request: web.Request, env: jinja2.Environment, template: str, *, title: str, status: int = 200,
    **context: Any,
) -> web.Response:
    """A full console page: `template` (extending `layout.html`) with the navigation."""
    html = env.get_template(template).render(
        title=title, navigation=_navigation(request), current=request.path, **context
    )
    return web.Response(text=html, content_type="text/html", status=status,
                        headers={"Cache-Control": "no-store"})


async def asset(request: web.Request) -> web.Response:
    """A bundled CSS or JavaScript file (`/console/static/<name>`)."""
    name = request.match_info["name"]
    content_types = {".css": "text/css", ".js": "text/javascript"}
    kind = next((t for ext, t in content_types.items() if name.endswith(ext)), None)
    resource = _ASSETS / name
    if kind is None or "/" in name or not resource.is_file():
        raise web.HTTPNotFound(text=f"no console asset {name!r}")
    return web.Response(body=resource.read_bytes(), content_type=kind)
