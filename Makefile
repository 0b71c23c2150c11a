# afest — the README's two commands are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export AFEST_DATABASE_URL ?= sqlite:///instance/afest.sqlite

.PHONY: run test browser-deps lint install system-deps migrate seed translations i18n bench clean vendor-workbox

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: system-deps $(STAMP) translations

# WeasyPrint needs Pango (proof pack PDFs); the proof pack tests render pages with poppler.
system-deps:
	@if ! ldconfig -p 2>/dev/null | grep -q libpango-1.0 || ! command -v pdftoppm >/dev/null; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils \
			|| { apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
				fonts-dejavu-core poppler-utils; }; \
		else \
			echo "Install Pango and poppler-utils (Debian: libpango-1.0-0 libpangoft2-1.0-0 poppler-utils)"; \
		fi; \
	fi

translations: $(STAMP)
	@$(BIN)/pybabel compile --use-fuzzy -d afest/translations -D messages --statistics 2>&1 | grep -v "^compiling" || true

# Extract the French source strings and merge them into the English catalogue.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project afest -o afest/translations/messages.pot .
	$(BIN)/pybabel update -i afest/translations/messages.pot -d afest/translations -l en \
		--no-wrap --ignore-obsolete

migrate: install
	$(BIN)/alembic upgrade head

seed: migrate
	$(BIN)/flask --app afest afest seed-demo

# The app and, beside it, the consumer of the background jobs (stopped with it).
run: seed
	@echo "afest on http://127.0.0.1:5000 (Ctrl-C to stop)"
	@$(BIN)/flask --app afest afest worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
		$(BIN)/flask --app afest run --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check afest tests bench migrations/env.py

# Browser tests (tests/browser) drive Debian's chromium with axe-core from npm.
browser-deps:
	@[ -x /usr/bin/chromium ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@[ -f tests/browser/node_modules/axe-core/axe.min.js ] || npm ci --prefix tests/browser --no-audit --no-fund

# The tablet's service worker library, vendored (committed) in afest/static/vendor: run this
# to take another pinned release from the npm registry (then change WORKBOX in static/js/sw.js).
WORKBOX := 7.4.1
vendor-workbox:
	@tmp=$$(mktemp -d); dest=afest/static/vendor/workbox-$(WORKBOX); \
	npm install --prefix $$tmp --no-save --no-audit --no-fund \
		workbox-sw@$(WORKBOX) workbox-core@$(WORKBOX) workbox-routing@$(WORKBOX) workbox-strategies@$(WORKBOX) \
	&& mkdir -p $$dest && cp $$tmp/node_modules/workbox-sw/build/workbox-sw.js $$tmp/node_modules/workbox-sw/LICENSE $$dest/ \
	&& for m in core routing strategies; do cp $$tmp/node_modules/workbox-$$m/build/workbox-$$m.prod.js $$dest/; done; \
	rm -rf $$tmp

# Every test on SQLite, then again on PostgreSQL when AFEST_TEST_DATABASE_URL is set.
test: lint browser-deps
	env -u AFEST_TEST_DATABASE_URL $(BIN)/python -m pytest -q -p no:cacheprovider
	@if [ -n "$$AFEST_TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$AFEST_TEST_DATABASE_URL)"; \
		$(BIN)/python -m pytest -q -p no:cacheprovider; \
	else \
		echo "AFEST_TEST_DATABASE_URL not set: PostgreSQL run skipped"; \
	fi

# The timed benchmarks, then the load and fault test (gunicorn instances, about 3 minutes).
bench: install
	@for b in bench/bench_*.py; do [ -e "$$b" ] && $(BIN)/python "$$b"; done; true
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
