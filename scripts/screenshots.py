#!/usr/bin/env python
"""Take the README's screenshots of the portal, from the demo data, in Danish.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Everything happens in a throw-away temporary folder, so the demo database in ``var/`` and any
``DATABASE_URL``/``REDIS_URL`` of the shell are left alone:

1. a fresh SQLite database (``DATABASE_URL=sqlite:///<tmp>/shots.sqlite3``, ``DJANGO_ENV=development``,
   ``DEBUG`` off, Celery tasks run eagerly so the demo messages are delivered as a worker would);
   ``manage.py migrate``, ``load_reference_data`` and ``load_demo_data`` fill it;
2. the portal runs as ``manage.py runserver --noreload`` on a free local port, and is stopped when
   the screenshots are taken (or when anything fails);
3. Playwright drives Debian's ``/usr/bin/chromium`` (headless), signs in as the demo accounts
   (password ``smartcare-demo``) and saves one viewport screenshot per entry of ``SHOTS``, in the
   portal's default language (Danish): 1366x900 for desktop pages, 1024x768 for the tablet.

The demo data is dated relative to the day it is loaded, so the pictures show that day's demo
dates and never go stale in a way that breaks the script. The citizen shown is the first one in
the GP's inbox who has a care plan, measurements and messages.

Needs what ``make setup`` installs (the virtualenv, node_modules for the portal's front-end
libraries), the chromium that ``scripts/system-deps.sh`` installs and Debian's ``chromium-l10n``
(without it the browser's own date pickers come out in American English; the script warns). Exits non-zero, naming the
shot, if a page does not look as expected.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUT = BASE_DIR / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--lang=da-DK"]
# The browser's own widgets (date and time pickers) follow its UI language: Danish needs Debian's
# chromium-l10n and a Danish LANGUAGE in chromium's environment.
CHROMIUM_DANISH = Path("/usr/lib/chromium/locales/da.pak")
CHROMIUM_ENV = {"LANGUAGE": "da", "LANG": "da_DK.UTF-8"}
DEMO_PASSWORD = "smartcare-demo"  # noqa: S105 - the published demo password (README)
DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 1024, "height": 768}
SERVER_START_SECONDS = 60

GP = "gp@smartcare.example"
HOME_CARE = "homecare.odense@smartcare.example"
HOSPITAL_NURSE = "nurse.ouh@smartcare.example"


@dataclass(frozen=True)
class Shot:
    filename: str
    account: str
    viewport: dict[str, int]
    caption: str
    # Opens the page (signed in as ``account``) and waits until it shows what the picture is for.
    open: Callable[[Any, Tour], None]


class Tour:
    """What the shots share: the demo citizen that the citizen pages show, found once."""

    def __init__(self) -> None:
        self.citizen_url: str | None = None
        self.care_plan_url: str | None = None

    def find_citizen(self, page) -> None:
        """The first citizen in the GP's inbox whose page shows a care plan, measurements and messages."""
        page.goto("/messages/")
        ids = []
        for link in page.get_by_test_id("message-citizen").all():
            citizen_id = link.get_attribute("href").rsplit("citizen=", 1)[1]
            if citizen_id not in ids:
                ids.append(citizen_id)
        for citizen_id in ids:
            page.goto(f"/citizens/{citizen_id}/")
            plans = page.get_by_test_id("care-plan")
            if (
                plans.count()
                and page.get_by_test_id("latest-measurement").count()
                and page.get_by_test_id("citizen-message").count()
            ):
                self.citizen_url = f"/citizens/{citizen_id}/"
                self.care_plan_url = plans.first.locator("a[href*='/care/plans/']").first.get_attribute("href")
                return
        raise RuntimeError("No citizen in the GP's inbox has a care plan, measurements and messages")


def _expect(page, test_id: str) -> None:
    page.get_by_test_id(test_id).first.wait_for(state="visible")


def open_dashboard(page, tour: Tour) -> None:
    page.goto("/")
    _expect(page, "acting-organisation")
    page.locator("main").wait_for()


def open_citizen(page, tour: Tour) -> None:
    if tour.citizen_url is None:
        tour.find_citizen(page)
    page.goto(tour.citizen_url)
    _expect(page, "sectors")
    _expect(page, "latest-measurement")


def open_care_plan(page, tour: Tour) -> None:
    if tour.care_plan_url is None:
        tour.find_citizen(page)
    page.goto(tour.care_plan_url)
    page.locator("h1").first.wait_for()


def open_today(page, tour: Tour) -> None:
    page.goto("/care/today/")
    page.locator("h1").first.wait_for()


def open_inbox(page, tour: Tour) -> None:
    page.goto("/messages/")
    _expect(page, "message-row")


def open_hospital_events(page, tour: Tour) -> None:
    page.goto("/messages/hospital-events/")
    _expect(page, "hospital-events")


SHOTS: tuple[Shot, ...] = (
    Shot("dashboard.png", GP, DESKTOP, "The GP's work overview after sign-in", open_dashboard),
    Shot(
        "citizen-overview.png",
        GP,
        DESKTOP,
        "A citizen across the three sectors: GP, municipality and hospital",
        open_citizen,
    ),
    Shot("care-plan.png", GP, DESKTOP, "The citizen's shared care plan", open_care_plan),
    Shot("today-tablet.png", HOME_CARE, TABLET, "Home care's Today list on a tablet", open_today),
    Shot("inbox.png", GP, DESKTOP, "The GP clinic's inbox of care communications", open_inbox),
    Shot(
        "hospital-events.png",
        HOSPITAL_NURSE,
        DESKTOP,
        "A hospital department's admissions and discharges",
        open_hospital_events,
    ),
)


# --- the throw-away portal ---------------------------------------------------------------------


def portal_environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'shots.sqlite3'}",
        DJANGO_ENV="development",
        DJANGO_SETTINGS_MODULE="smartcare.settings",
        DEBUG="false",
        CELERY_TASK_ALWAYS_EAGER="true",
        MEDIA_ROOT=str(tmp / "media"),
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    print("manage.py", *args, flush=True)
    result = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed ({result.returncode})")


def compile_catalogues() -> None:
    """The Danish catalogue as ``make setup`` compiles it (with Babel, no GNU gettext needed)."""
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(  # noqa: S603 - the virtualenv's pybabel with fixed arguments
        [str(pybabel), "compile", "--domain=django", f"--directory={BASE_DIR / 'locale'}"],
        check=True,
        capture_output=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_portal(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, str(BASE_DIR / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The portal stopped at start-up:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health/", timeout=2):  # noqa: S310 - our local server
                return server, url
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_portal(server)
    raise SystemExit(f"The portal did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()}")


def stop_portal(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- the browser -------------------------------------------------------------------------------


def sign_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("[data-testid=login-form] button[type=submit]")
    page.wait_for_selector("[data-testid=user-menu]")


def take(shots: tuple[Shot, ...], url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM_DANISH.exists():
        print("Warning: chromium-l10n is not installed, date pickers will be in English", file=sys.stderr)
    tour = Tour()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env={**os.environ, **CHROMIUM_ENV})
        try:
            for shot in shots:
                context = browser.new_context(base_url=url, viewport=shot.viewport, locale="da-DK")
                context.set_default_timeout(20_000)
                page = context.new_page()
                try:
                    sign_in(page, shot.account)
                    shot.open(page, tour)
                    page.wait_for_load_state("networkidle")
                    page.evaluate("document.fonts.ready")
                    path = out / shot.filename
                    page.screenshot(path=str(path))
                except Exception as exc:
                    raise SystemExit(f"{shot.filename}: {exc}") from exc
                finally:
                    context.close()
                print(f"{path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path}", flush=True)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs (default docs/screenshots)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smartcare-shots-") as tmp_name:
        tmp = Path(tmp_name)
        env = portal_environment(tmp)
        compile_catalogues()
        manage(env, "migrate", "--noinput")
        manage(env, "load_reference_data")
        manage(env, "load_demo_data")
        server, url = start_portal(env, tmp / "runserver.log")
        try:
            take(SHOTS, url, out)
        finally:
            stop_portal(server)


if __name__ == "__main__":
    main()
