"""The web console at `/` on the admin port: server-rendered pages over the runtime's public API.

`pages` holds the runtime's own pages (function types with live rates, address search, state,
parked addresses, dead letters); `rendering` the Jinja environment, the layout every page
shares (extensions' pages too, e.g. the workflow host's) and the bundled CSS and JavaScript.
Nothing is fetched from the internet. State-changing actions are `fetch` POSTs to the admin
API with a JSON body and a custom header (see `baton.runtime.admin_guard`).
"""

from baton.runtime.console.pages import console_routes
from baton.runtime.console.rendering import console_link, render_page

__all__ = ["console_link", "console_routes", "render_page"]
