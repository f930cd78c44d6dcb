"""Browser tests: real headless Chromium (Debian's) against the real services.

Run in a pytest process of their own without eventlet (``nox -s browser``);
Playwright from PyPI drives ``/usr/bin/chromium`` (never ``playwright install``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from stack import Stack, running_stack

from service_testing.ci import running_in_ci

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Long enough that nothing expires while a test looks at it; the expiry test
# has its own stack with a short one.
LONG_TTL_SECONDS = "300"
SHORT_TTL_SECONDS = "2"


def stack_fixture(name: str, message_ttl_seconds: str):
    """The session-wide fixture ``name``: a stack whose messages live ``message_ttl_seconds``."""

    @pytest.fixture(scope="session", name=name)
    def running_stack_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
        log_dir = tmp_path_factory.mktemp(name)
        # The tests post more than a client may at once; the page's answer to a 429
        # is tested with a routed response.
        with running_stack(
            log_dir, MESSAGE_TTL_SECONDS=message_ttl_seconds, MESSAGE_RATE_LIMIT_ENABLED="false"
        ) as running:
            yield running

    return running_stack_fixture


stack = stack_fixture("stack", LONG_TTL_SECONDS)
short_ttl_stack = stack_fixture("short_ttl_stack", SHORT_TTL_SECONDS)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Error as exc:
            problem = f"Chromium did not start from {CHROMIUM} (apt-get install chromium): {exc}"
            if running_in_ci():
                pytest.fail(problem)  # CI must run these tests, never skip them
            pytest.skip(problem)
        yield chromium
        chromium.close()


class Dialogs(list):
    """Messages of every dialog (alert, confirm ...) the page opened; each is dismissed."""


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs()


@pytest.fixture
def bypass_csp() -> bool:
    """Whether the page's Content-Security-Policy is ignored (a test parametrizes it)."""
    return False


@pytest.fixture
def page(browser, dialogs: Dialogs, bypass_csp: bool):
    context = browser.new_context(viewport={"width": 900, "height": 700}, bypass_csp=bypass_csp)
    opened = context.new_page()
    opened.set_default_timeout(15_000)

    def record(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    opened.on("dialog", record)
    yield opened
    context.close()
