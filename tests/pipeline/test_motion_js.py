"""The review page's motion.js evaluates every motion and caption formula as pipeline/motion.py does: Python
writes the table, `node --test` holds the JavaScript to it."""
import os
import shutil
import subprocess

import pytest
from django.conf import settings

from tests.js import motion_table


def test_motion_js_matches_motion_py_formula_by_formula(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the machines have it (apt-get install nodejs)")
    table = tmp_path / "motion.json"
    table.write_text(__import__("json").dumps(motion_table.table()))
    result = subprocess.run([node, "--test", "tests/js/"], cwd=settings.BASE_DIR, capture_output=True, text=True,
                            env={**os.environ, "MOTION_TABLE": str(table)}, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 4" in result.stdout
