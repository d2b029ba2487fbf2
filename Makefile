# The two commands: `make run` (the product, embedded defaults) and `make test` (the whole suite).
# Both set everything up on a fresh Debian machine: system packages (when root), a virtualenv, the database.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
# eSpeak NG speaks the narration (L4); DejaVu is the benchmark's caption font; Chromium runs the browser tests;
# Node.js runs the review page's JavaScript tests (node --test tests/js/, from the suite) and drives Firefox ESR and WebKitGTK
# (MiniBrowser under Xvfb) for the browser tests besides Chromium; the tests check what
# they make with what receivers use: ffprobe (Debian's ffmpeg) for the video, promtool (prometheus) for /metrics.
RUN_PACKAGES  := espeak-ng fonts-dejavu-core
TEST_PACKAGES := $(RUN_PACKAGES) chromium nodejs ffmpeg prometheus firefox-esr webkit2gtk-driver xvfb
PYTEST_ARGS ?=
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | sha1sum | cut -c1-12)

.PHONY: run test screenshots setup system-run system-test lint venv clean

run: system-run $(STAMP)
	$(PY) manage.py setup
	$(PY) manage.py serve

# The suite on every core (pytest-xdist; each worker its own test database and Redis database).
test: system-test $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -n auto $(PYTEST_ARGS)

# The README's pictures (docs/*.png), made by the browser tests that draw them; a plain test run leaves docs/ alone.
screenshots: system-test $(STAMP)
	SCREENSHOTS_DIR=docs RUN_HEAVY=1 $(PY) -m pytest -q tests/browser -k "screenshot or batch_grid or two_reviewers or day_at_the_desk or variants_play"

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

system-run:
	@./scripts/install-system-packages $(RUN_PACKAGES)

system-test:
	@./scripts/install-system-packages $(TEST_PACKAGES)

# The browser tests' drivers for Firefox ESR and WebKitGTK (package.json, pinned by package-lock.json).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(STAMP): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) var node_modules
