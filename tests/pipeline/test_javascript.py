"""The review page's JavaScript under `node --test tests/js/`: motion.js evaluates every motion and caption
formula as pipeline/motion.py does (Python writes the table, node holds the JavaScript to it), and desk.js merges
the shared draft as the server does."""
import os
import shutil
import subprocess

import pytest
from django.conf import settings

from tests.js import motion_table


def test_the_pages_javascript_passes_its_node_tests(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the machines have it (apt-get install nodejs)")
    table = tmp_path / "motion.json"
    table.write_text(__import__("json").dumps(motion_table.table()))
    result = subprocess.run([node, "--test", "tests/js/"], cwd=settings.BASE_DIR, capture_output=True, text=True,
                            env={**os.environ, "MOTION_TABLE": str(table)}, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 18" in result.stdout
