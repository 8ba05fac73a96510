"""The web console in headless Chromium (Debian's, driven by Playwright): find an address, see
its state, resume a parked address, dead-letter and re-send, open a workflow execution and see
its path. Screenshots go to tests/.artifacts/console/ for a person to look at."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.console import scenario

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "tests" / ".artifacts" / "console"

if not Path(CHROMIUM).exists():
    message = (
        "Debian's chromium is not installed: the console's browser tests need it "
        "(`make setup` installs it with apt-get as root; or `sudo apt-get install chromium`)"
    )
    if os.environ.get("CI"):
        raise RuntimeError(message)  # CI must run these: fail the collection loudly
    pytest.skip(message, allow_module_level=True)

from playwright.async_api import Page, async_playwright, expect  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def browser():
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def shop(function_server, start_app):
    scenario.FLAKY["failing"] = True
    scenario.CHARGES.clear()
    app = await start_app(scenario.shop_module(await function_server(scenario.shop_functions())))
    for who, total in (("alice", 30), ("albert", 12), ("bob", 5)):
        assert await app.send(f"shop/cart/{who}", json.dumps({"items": ["tea", "mug"], "total": total}),
                              "application/vnd.shop/Json") == 202
    for flaky in ("f1", "f2"):
        assert await app.send(f"shop/flaky/{flaky}", "{}", "application/vnd.shop/Json") == 202
    assert await app.send("shop/checkout/order-7", json.dumps({"id": "order-7", "total": 42}),
                          "application/vnd.shop/Json") == 202
    await app.runtime.until(lambda: len(app.runtime.parked()) == 2, timeout=20)
    await app.runtime.until_idle(20, timers=True)  # the charge's retry timer fired, the execution ended
    return app


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_console_finds_state_resumes_parked_and_shows_a_workflow_path(browser, shop):
    page = await browser.new_page(viewport={"width": 1360, "height": 860})
    page.on("dialog", lambda dialog: dialog.accept())  # the dead-letter and re-send confirmations

    # Function types with their counters, live-updated.
    await page.goto(f"{shop.admin}/")
    row = page.locator('#function-types tr[data-type="shop/cart"]')
    await expect(row.locator('[data-field="messages_in"]')).to_have_text("3")
    await expect(page.locator('[data-total="parked"]')).to_have_text("2")
    await expect(row.locator('[data-rate="messages_in"]')).to_have_text("0.0", timeout=6000)
    await shot(page, "1-overview")

    # Find an address by type and id prefix, open its state.
    await page.get_by_role("link", name="Addresses").click()
    await page.get_by_label("Function type").fill("shop/cart")
    await page.get_by_label("Id starts with").fill("al")
    await page.get_by_role("button", name="Search").click()
    links = page.locator("#addresses a")
    await expect(links).to_have_text(["shop/cart/albert", "shop/cart/alice"])
    await shot(page, "2-addresses")
    await links.filter(has_text="alice").click()
    cart = page.locator('#state tr[data-state="cart"]')
    await expect(cart).to_contain_text('"total": 30')
    await expect(cart).to_contain_text("shop/Json")
    await expect(cart).to_contain_text("(in 60 min)")  # the TTL's expiry
    await expect(page.locator('#state tr[data-state="updates"]')).to_contain_text("1")
    await shot(page, "3-state")

    # The address box jumps straight to an address.
    await page.get_by_label("Go to address").fill("shop/flaky/f1")
    await page.get_by_label("Go to address").press("Enter")
    await expect(page.locator("#parked")).to_contain_text("the inventory service is down")

    # Resume a parked address once its cause is fixed.
    await page.get_by_role("link", name="Parked").click()
    await expect(page.locator("#parked tbody tr")).to_have_count(2)
    await shot(page, "4-parked")
    scenario.FLAKY["failing"] = False
    await page.locator('tr[data-address="shop/flaky/f1"]').get_by_role("button", name="Resume").click()
    await expect(page.locator("#notice")).to_have_text("Resumed shop/flaky/f1")
    await expect(page.locator("#parked tbody tr")).to_have_count(1)  # reloaded
    await shop.runtime.until(lambda: "seen" in shop.runtime.state(_address("shop/flaky/f1")), timeout=10)

    # Dead-letter the other one's message, then re-send it from the dead letters.
    await page.locator('tr[data-address="shop/flaky/f2"]').get_by_role("button", name="Dead-letter").click()
    await expect(page.locator("#notice")).to_contain_text("Dead-lettered")
    await expect(page.get_by_text("No parked addresses")).to_be_visible()
    await page.get_by_role("link", name="Dead letters").click()
    await expect(page.locator("#dead-letters tbody tr")).to_contain_text("the inventory service is down")
    await shot(page, "5-dead-letters")
    await page.get_by_role("button", name="Re-send").click()
    await expect(page.locator("#notice")).to_have_text("Re-sent to shop/flaky/f2")
    await shop.runtime.until(lambda: "seen" in shop.runtime.state(_address("shop/flaky/f2")), timeout=10)

    # A workflow execution: its status, the path through the graph, each step.
    await page.get_by_role("link", name="Workflows").click()
    await expect(page.locator('table[data-workflow="shop/checkout"]')).to_contain_text("SUCCEEDED")
    await shot(page, "6-executions")
    await page.get_by_role("link", name="order-7").click()
    await expect(page.locator("#execution-status")).to_have_text("SUCCEEDED")
    statuses = {
        name: await page.locator(f'#graph g[data-state="{name}"]').get_attribute("data-status")
        for name in ("Validate", "Charge", "Big", "Review", "Ship", "Rejected")
    }
    assert statuses == {"Validate": "succeeded", "Charge": "succeeded", "Big": "succeeded",
                        "Review": "not-entered", "Ship": "succeeded", "Rejected": "not-entered"}
    await expect(page.locator("#graph path.taken")).to_have_count(3)  # Validate→Charge→Big→Ship
    charge = page.locator('#steps tr[data-step="Charge"]')
    await expect(charge).to_contain_text("CardTimeout")  # the failed first attempt ...
    await expect(charge.locator("td.num").nth(1)).to_have_text("1")  # ... retried once
    await expect(charge).to_contain_text('"charged": 42')
    await expect(page.locator("#execution-output")).to_contain_text("TRK-order-7")
    await shot(page, "7-execution")


def _address(text: str):
    from baton.runtime.address import Address

    return Address.parse(text)
