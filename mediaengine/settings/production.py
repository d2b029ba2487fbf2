"""Production: PostgreSQL and Redis from the environment, HTTPS everywhere.

`DJANGO_SETTINGS_MODULE=mediaengine.settings.production manage.py check --deploy`
passes with no warnings once SECRET_KEY is a real key.
"""
from django.core.exceptions import ImproperlyConfigured

from mediaengine import env
from mediaengine.settings.base import *  # noqa: F403

if not env.SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment (50+ random characters).")
SECRET_KEY = env.SECRET_KEY
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
