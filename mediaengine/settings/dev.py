"""The embedded default: SQLite, local-memory cache, in-memory channel layer, DEBUG on."""
from django.core.exceptions import ImproperlyConfigured

from mediaengine import env
from mediaengine.settings.base import *  # noqa: F403

DEBUG = env.env.bool("DEBUG", default=True)
SECRET_KEY = env.SECRET_KEY or (env.embedded_secret_key() if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment when DEBUG is off.")
