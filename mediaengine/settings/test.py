"""Tests: the embedded settings, with django-q2 running tasks in the calling thread."""
import os

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

# pytest-xdist's workers (gw0, gw1, ...) share one Redis: each gets a database of its own (1, 2, ...), so one
# worker's cache.clear() or channel groups never reach another's. The servers and workers a test starts inherit
# PYTEST_XDIST_WORKER, and land in the same database as their test.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if env.REDIS_URL and _xdist_worker.startswith("gw"):
    from urllib.parse import urlsplit, urlunsplit

    env.REDIS_URL = urlunsplit(urlsplit(env.REDIS_URL)._replace(path=f"/{int(_xdist_worker[2:]) + 1}"))
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {
        "hosts": [env.channel_layer_host(env.REDIS_URL)]}}}
