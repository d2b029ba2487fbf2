"""The server the browser tests start: test settings, but tasks go through a real django-q2 cluster."""
from mediaengine.settings.test import *  # noqa: F403
from mediaengine.settings.test import Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": False, "poll": 0.1, "workers": 2}
