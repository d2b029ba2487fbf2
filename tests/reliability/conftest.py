import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Heavy tests (real worker processes killed, many jobs at once) run in CI's PostgreSQL pass: RUN_HEAVY=1."""
    if os.environ.get("RUN_HEAVY") == "1":
        return
    skip = pytest.mark.skip(reason="heavy: runs with RUN_HEAVY=1 (CI's PostgreSQL pass)")
    for item in items:
        if item.get_closest_marker("heavy"):
            item.add_marker(skip)
