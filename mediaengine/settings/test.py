"""Tests: the embedded settings, with django-q2 running tasks in the calling thread."""
from mediaengine.settings.dev import *  # noqa: F403
from mediaengine.settings.dev import Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
