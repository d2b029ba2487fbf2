"""The server the browser tests start: test settings, but tasks go through a real django-q2 cluster."""
from mediaengine import env
from mediaengine.settings.test import *  # noqa: F403
from mediaengine.settings.test import PIPELINE, Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": False, "poll": 0.1, "workers": 2}
PIPELINE = {**PIPELINE, "RENDER_AHEAD": env.RENDER_AHEAD}
