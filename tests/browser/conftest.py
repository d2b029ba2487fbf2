"""The real stack for browser tests: Daphne (HTTP + WebSockets) and a django-q2 cluster, in their own
processes, on the test database; Playwright drives Debian's Chromium against it."""
import logging
import os
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.stack import Stack, accepts, free_port, server_env

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module", autouse=True)
def orm_beside_playwright():
    """Playwright's sync API keeps an event loop on the main thread; the ORM calls in these tests are
    ordinary synchronous ones made beside it, which Django allows with this switch, for these tests only."""
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    yield
    if previous is None:
        os.environ.pop(ASYNC_UNSAFE, None)
    else:
        os.environ[ASYNC_UNSAFE] = previous

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required", "--use-fake-ui-for-media-stream",
                 "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def live_media(tmp_path_factory):
    return tmp_path_factory.mktemp("live-media")


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker, live_media, tmp_path_factory):
    """Start Daphne and a qcluster; yield the base URL. Both are stopped, with their children, at the end."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}: `make test` installs Debian's chromium package")
    port = free_port()
    logs = tmp_path_factory.mktemp("live-out")
    stack = Stack(server_env(live_media, tmp_path_factory.mktemp("live-logs")), logs)
    stack.start_web(port)
    stack.start_cluster()
    if not accepts(port):
        stack.stop()
        pytest.fail(f"the server did not start: {stack.log('web')[-2000:]}")
    yield {"url": f"http://127.0.0.1:{port}", "logs": logs}
    stack.stop()


@pytest.fixture
def media_root(settings, live_media):
    """Browser tests share the live server's media folder."""
    from pipeline import text

    settings.MEDIA_ROOT = live_media
    text.configure(live_media / "brand" / "fonts")
    return live_media


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's event loop leaves the main thread with the module, so the tests
    # that run after it can use async_to_sync again.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def staff_page(browser, live_stack, staff_user, client):
    """A page logged in as a staff user (session cookie from Django's test client)."""
    client.force_login(staff_user)
    # Playwright's wait_for_function evaluates its predicate with eval(), which the studio's CSP forbids (as it
    # should); the CSP itself is held by test_the_review_page_works_under_its_content_security_policy.
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=live_stack["url"],
                                  bypass_csp=True)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_stack["url"]}])
    page = context.new_page()
    page.errors = []
    page.console = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    yield page
    if page.errors or any(line.startswith("error") for line in page.console):
        logging.getLogger("tests.browser").warning("browser console:\n  %s", "\n  ".join(page.console + page.errors))
    context.close()
    _wait_for_idle_workers()


def _wait_for_idle_workers(timeout_s: float = 60) -> None:
    """Let the server's cluster finish what the test left it (renders of approved jobs) before the database is
    emptied for the next test: PostgreSQL's TRUNCATE and a task's transaction can deadlock (CI saw it).

    Jobs still waiting for review are cancelled first, as a desk would leave them: their render ahead (a whole
    reel on an idle worker) then gives way within half a second instead of running to its end."""
    from django_q.models import OrmQ

    from jobs import services
    from jobs.models import Job
    from jobs.services import BUSY
    from tests.browser.helpers import off_loop

    for job_id in Job.objects.filter(status=Job.Status.AWAITING_REVIEW).values_list("pk", flat=True):
        off_loop(services.job_cancel, job_id=job_id)

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and (Job.objects.filter(status__in=BUSY).exists() or OrmQ.objects.exists()):
        time.sleep(0.2)
