"""Tests: the embedded settings, with django-q2 running tasks in the calling thread."""
from mediaengine import env
from mediaengine.settings.dev import *  # noqa: F403
from mediaengine.settings.dev import Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# With tasks in the calling thread, the render ahead would render a whole reel inside the layer that reached
# review. Its own tests (tests/jobs/test_render_ahead.py) turn it on; the browser server, with a real
# cluster, runs it as shipped.
PIPELINE = {**PIPELINE, "RENDER_AHEAD": False}  # noqa: F405

# The browser tests start the real server in other processes, so even SQLite's test database is a file.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(env.VAR_DIR / "test-db.sqlite3")}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
