"""9. Configuration: deploy checks clean, no bare or blind except, no swallowed error, every subprocess timed."""
import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["mediaengine", "jobs", "pipeline", "presets", "previews"]


def deploy_check(**env):
    """`manage.py check --deploy` under the production settings, as a deploy runs it."""
    environment = {**{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "METRICS_TOKEN")},
                   "DJANGO_SETTINGS_MODULE": "mediaengine.settings.production",
                   "SECRET_KEY": "k" * 20 + "production-like-secret-value-for-the-check-3vX9!",
                   "ALLOWED_HOSTS": "media.example", **env}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=120)


def test_deploy_checks_are_clean_under_production_settings():
    """given: production settings with a secret key and a metrics token
    when: `check --deploy` runs
    then: it finds nothing"""
    done = deploy_check(METRICS_TOKEN="a-long-random-scrape-token")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_without_a_metrics_token_fails_the_deploy_check():
    """given: production settings with no METRICS_TOKEN
    then: the deploy check fails naming it (jobs.E002): /metrics would show the desk's figures to anyone"""
    done = deploy_check()
    assert done.returncode != 0 and "jobs.E002" in done.stderr and "METRICS_TOKEN" in done.stderr


def test_no_bare_or_blind_except_and_no_print():
    """given: the project's code
    when: ruff looks for bare and blind excepts, swallowed errors and prints
    then: it finds none"""
    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run([str(ruff), "check", "--select", "E722,BLE001,S110,T20", *PACKAGES], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout


def test_every_subprocess_call_has_a_timeout():
    """subprocess.run/call/check_* need timeout=; a Popen is only allowed where its wait is bounded."""
    missing = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                    continue
                name = node.func.attr
                keywords = {k.arg for k in node.keywords}
                receiver = ast.unparse(node.func.value)
                if receiver == "subprocess" and name in {"run", "call", "check_call", "check_output"} and (
                        "timeout" not in keywords):
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} subprocess.{name}")
                if name in {"communicate", "wait"} and receiver.endswith(("process", "child")) and (
                        "timeout" not in keywords) and not node.args:
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {receiver}.{name}()")
    assert missing == [], "calls without a timeout: " + ", ".join(missing)
