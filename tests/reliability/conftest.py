import os

import pytest


def pytest_collection_modifyitems(config, items):
    """Heavy tests (real worker processes killed, many jobs at once) run in CI's PostgreSQL pass: RUN_HEAVY=1.
    The load test (minutes of the whole machine) runs when asked for: RUN_LOAD=1 (see RELIABILITY.md)."""
    heavy = pytest.mark.skip(reason="heavy: runs with RUN_HEAVY=1 (CI's PostgreSQL pass)")
    load = pytest.mark.skip(reason="load: runs with RUN_LOAD=1 (RELIABILITY.md has its figures)")
    for item in items:
        if item.get_closest_marker("load") and os.environ.get("RUN_LOAD") != "1":
            item.add_marker(load)
        elif item.get_closest_marker("heavy") and os.environ.get("RUN_HEAVY") != "1":
            item.add_marker(heavy)
