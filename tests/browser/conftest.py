import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def playwright_browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def access_log_head(transactional_db):
    """A transactional test's flush removes the access-log head row that the migration creates."""
    from citizens.models import AccessLogHead

    AccessLogHead.objects.get_or_create(id=1)


@pytest.fixture
def new_page(playwright_browser, live_server, request):
    """Open a page on the live server; a failing test leaves a screenshot in test-artifacts/."""
    contexts = []

    def make(viewport=None, language=None, bypass_csp=False):
        """language: pin the portal's language (the switch's cookie); None keeps the default.
        bypass_csp: let the test inject its own script (axe-core) past the portal's CSP."""
        context = playwright_browser.new_context(
            base_url=live_server.url, viewport=viewport or {"width": 1280, "height": 900}, bypass_csp=bypass_csp
        )
        if language:
            context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        return page

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, context in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            for j, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{i}-{j}.png"), full_page=True)
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def sign_in(page, email, password="smartcare-demo"):  # noqa: S107 - the published demo password
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("[data-testid=login-form] button[type=submit]")
