"""The messenger page in headless Chromium, against the real gateway and messages service."""

from __future__ import annotations

import os
import re
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

# "About a second" is the goal; the bound is generous because the machine is shared.
APPEAR_TIMEOUT_MS = 5_000
SCREENSHOT_ENV = "MESSENGER_SCREENSHOT"


def unique(text: str) -> str:
    return f"{text} #{uuid.uuid4().hex[:6]}"


def message_items(page: Page, text: str):
    """The list items whose text is exactly ``text``."""
    return page.locator("#messages .message").filter(
        has=page.locator(".text", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def open_live(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#connection")).to_have_text("live")


def test_message_sent_through_the_form_appears_with_a_countdown(page, stack):
    open_live(page, stack.url)
    text = unique("hello from the form")

    page.fill("#text", text)
    page.click("#send")

    item = message_items(page, text)
    expect(item).to_have_count(1, timeout=APPEAR_TIMEOUT_MS)
    expect(item.locator(".countdown")).to_have_text(re.compile(r"^expires in \d+ s$"))
    expect(page.locator("#text")).to_have_value("")
    expect(page.locator("#error")).to_be_hidden()


def test_message_posted_from_outside_appears_without_reload(page, stack):
    open_live(page, stack.url)
    page.evaluate("window.notReloaded = true")
    # Polling is cut off: the message can only arrive over the live stream.
    page.route("**/messages?*", lambda route: route.abort())
    text = unique("posted with curl")

    stack.post_message(text)

    expect(message_items(page, text)).to_have_count(1, timeout=APPEAR_TIMEOUT_MS)
    expect(page.locator("#connection")).to_have_text("live")
    assert page.evaluate("window.notReloaded") is True
    assert stack.open_at_the_edge() >= 1  # the page's stream, held open through the edge


def test_page_polls_when_the_stream_is_refused(page, stack):
    # The stream answers 503 (as when the feed is full): EventSource gives up and
    # the page falls back to polling GET /messages.
    page.route("**/messages/stream", lambda route: route.fulfill(status=503, body="full"))
    page.goto(stack.url)
    expect(page.locator("#connection")).to_have_text("polling")
    text = unique("seen by polling")

    stack.post_message(text)

    expect(message_items(page, text)).to_have_count(1, timeout=APPEAR_TIMEOUT_MS)


def test_message_vanishes_once_its_ttl_is_over(page, short_ttl_stack):
    open_live(page, short_ttl_stack.url)
    text = unique("short-lived")

    posted = short_ttl_stack.post_message(text)

    expect(message_items(page, text)).to_have_count(1, timeout=APPEAR_TIMEOUT_MS)
    expect(message_items(page, text)).to_have_count(0, timeout=15_000)
    gone = requests.get(f"{short_ttl_stack.url}/messages/{posted['id']}", timeout=10)
    assert gone.status_code == 404


# Once more without the Content-Security-Policy: the page's escaping alone must hold.
@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_markup_in_messages_is_shown_as_text_and_runs_nothing(page, stack, dialogs, bypass_csp):
    open_live(page, stack.url)
    tag = uuid.uuid4().hex[:6]
    typed = f"<img src=x onerror=alert(1)> {tag}"
    posted = [
        f"<script>alert(2)</script> {tag}",
        f'<img src=x onerror="window.injected=1"> {tag}',
        f"<b>bold?</b> {tag}",
    ]

    page.fill("#text", typed)
    page.click("#send")
    for text in posted:
        stack.post_message(text)

    for view in ("live", "after reload"):  # events, then the list read back by GET /messages
        for text in (typed, *posted):
            expect(message_items(page, text)).to_have_count(1, timeout=APPEAR_TIMEOUT_MS)
        assert page.locator("#messages img, #messages script, #messages b").count() == 0, view
        assert page.evaluate("window.injected") is None, view
        assert dialogs == [], view
        page.reload()
        expect(page.locator("#connection")).to_have_text("live")


def test_an_invalid_message_shows_the_servers_error(page, stack):
    open_live(page, stack.url)

    page.fill("#text", "   ")
    page.click("#send")

    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("Not sent")
    expect(page.locator("#error")).to_contain_text("message")


def test_page_lists_several_live_messages_newest_first(page, stack):
    texts = [
        "Anyone up for lunch at 12:30?",
        "Deploy finished, all green.",
        "This message will self-destruct. Like all the others.",
    ]
    for text in texts:
        stack.post_message(text)

    open_live(page, stack.url)

    ours = page.locator("#messages .message .text").filter(
        has_text=re.compile("^(" + "|".join(map(re.escape, texts)) + ")$")
    )
    expect(ours).to_have_text(list(reversed(texts)))
    if os.environ.get(SCREENSHOT_ENV):
        page.fill("#text", "Hello from TempMessenger")
        page.screenshot(path=os.environ[SCREENSHOT_ENV], full_page=True)


def test_a_rate_limited_post_shows_the_error_and_keeps_the_text(page, stack):
    open_live(page, stack.url)
    page.route(
        "**/messages",
        lambda route: (
            route.fulfill(
                status=429,
                headers={"Retry-After": "7", "Content-Type": "application/json"},
                body='{"error": "RATE_LIMITED", "message": "too many messages"}',
            )
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    text = unique("one too many")

    page.fill("#text", text)
    page.click("#send")

    expect(page.locator("#error")).to_have_text("Not sent: too many messages. Try again in 7 s.")
    expect(page.locator("#text")).to_have_value(text)
    expect(message_items(page, text)).to_have_count(0)
