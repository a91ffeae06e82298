# Every target creates .venv and installs when needed: a fresh machine needs only python3 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every package at the version and hashes of requirements.lock (README: "The lock"); `make lock` writes it.
LOCK := requirements.lock
LOCKED := $(VENV)/.locked-stamp
PIP := $(BIN)/python -m pip --disable-pip-version-check
# newman runs the Postman collection (tests/postman); npm installs it into postman/node_modules.
NEWMAN := postman/node_modules/.bin/newman
PYTEST_ARGS ?=

.PHONY: help install lock bot test test-fast test-stack bench serve worker beat up migrate clean

help:
	@echo "make bot       create the environment, migrate, and run the bot (bot.json) on the embedded default"
	@echo "make test      create the environment and run the whole suite"
	@echo "make bench     benchmarks, reported as ratios to a baseline measured in the same run"
	@echo "make serve     Agora on 127.0.0.1:8000 (migrates first): one gunicorn; with REDIS_URL, nginx before the API and the streams"
	@echo "make worker    a Celery worker, restarted after a crash (needs CELERY_BROKER_URL or REDIS_URL)"
	@echo "make beat      Celery beat: re-queues unfinished profile checks every 5 minutes"
	@echo "make up        the Procfile (proxy, web, streams, worker, beat) on PostgreSQL and Redis, stopped together"
	@echo "make migrate   apply database migrations"
	@echo "make lock      re-resolve requirements.lock from setup.cfg (UPGRADE=1, or UPGRADE_PACKAGE=name, to move pins)"

# The lock's packages, without the project: what `make lock` runs on, even while setup.cfg asks for more.
$(LOCKED): $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	touch $@

# pip-sync removes what an earlier lock installed and this one no longer lists (the project too, so it goes
# back on top), with its build requirements (setuptools, wheel) taken from the lock.
$(STAMP): $(LOCKED) setup.cfg pyproject.toml
	$(BIN)/pip-sync --quiet --pip-args "--disable-pip-version-check --require-hashes --no-deps" $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@$(PIP) check || { echo "$(LOCK) does not satisfy setup.cfg: run make lock" >&2; exit 1; }
	touch $@

install: $(STAMP)

# Keeps every pin that still satisfies setup.cfg; UPGRADE=1 moves all to the newest allowed,
# UPGRADE_PACKAGE="flask celery" only those (and what they need).
lock: $(LOCKED)
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --extra dev --build-deps-for editable \
		--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--no-emit-trusted-host --newline lf $(if $(UPGRADE),--upgrade) \
		$(foreach name,$(UPGRADE_PACKAGE),--upgrade-package $(name)) --output-file $(LOCK) setup.cfg

# The browser tests (tests/ui) drive Debian's Chromium; Playwright's own browser download does not work offline.
/usr/bin/chromium:
	apt-get update -qq && apt-get install -y --no-install-recommends chromium

$(NEWMAN): postman/package.json postman/package-lock.json
	cd postman && npm ci --no-audit --no-fund
	touch $@

bot: migrate
	$(BIN)/flask --app wsgi run-bot $(BOT_ARGS)

# nginx up front: tests/stack/test_make_up.py runs `make up`, whose proxy it is, within a time limit.
test: $(STAMP) $(NEWMAN) /usr/bin/chromium /usr/sbin/nginx
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not stack" $(PYTEST_ARGS)

# The real-stack tier (tests/stack): PostgreSQL, Redis, gunicorn and Celery worker processes.
test-stack: $(STAMP) /usr/sbin/nginx
	$(BIN)/python -m pytest -m stack $(PYTEST_ARGS)

/usr/bin/wrk:
	apt-get update -qq && apt-get install -y --no-install-recommends wrk

# The reverse proxy of `make serve` with REDIS_URL and of `make up` (deploy/nginx.sh runs it, unprivileged-style).
/usr/sbin/nginx:
	apt-get update -qq && apt-get install -y --no-install-recommends nginx

bench: $(STAMP) /usr/bin/wrk
	$(BIN)/python -m bench

migrate: $(STAMP)
	$(BIN)/flask --app wsgi db upgrade

# One address, as a deployment behind its proxy: without REDIS_URL (in the environment or .env) one gunicorn
# process serves the API, the pages and the streams at BIND (127.0.0.1:8000); with it, the Procfile's proxy
# (nginx at PROXY_BIND, 127.0.0.1:8000) before the API's gunicorn and the streaming processes.
REDIS_URL_SET = $(BIN)/python -c 'import os, dotenv; dotenv.load_dotenv(); print(os.environ.get("REDIS_URL", ""))'
serve: migrate
	@if [ -z "$$($(REDIS_URL_SET))" ]; then exec $(BIN)/gunicorn --config gunicorn.conf.py wsgi:app; fi; \
		{ [ -x /usr/sbin/nginx ] || $(MAKE) --no-print-directory /usr/sbin/nginx; } && mkdir -p instance && \
		PATH="$(abspath $(BIN)):$$PATH" exec honcho --procfile Procfile start web streams proxy

# Restarted after a crash (2 s apart); not after a warm shutdown (0), a configuration error or a missing
# broker (78), or a signal.
worker: $(STAMP)
	@while :; do \
		$(BIN)/celery -A tasks.worker worker --loglevel=INFO; status=$$?; \
		case $$status in 0|78|130|143) exit $$status;; esac; \
		echo "make worker: the worker exited with status $$status; restarting it in 2 s" >&2; sleep 2; \
	done

beat: $(STAMP)
	mkdir -p instance
	$(BIN)/celery -A tasks.worker beat --loglevel=INFO --schedule instance/celerybeat-schedule

# The full stack for trying it: the Procfile's proxy, web, streams, worker and beat under honcho, their logs
# interleaved, all stopped by one Ctrl-C (or when one of them exits); Agora at http://127.0.0.1:8000. Without
# DATABASE_URL and REDIS_URL it uses the local PostgreSQL (database agora, created if missing) and Redis.
UP_DATABASE ?= agora
up: $(STAMP) /usr/sbin/nginx
	@if [ -z "$$DATABASE_URL" ]; then \
		psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(UP_DATABASE)'" | grep -q 1 \
			|| createdb -h 127.0.0.1 -U postgres $(UP_DATABASE); \
	fi
	mkdir -p instance
	export DATABASE_URL="$${DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/$(UP_DATABASE)}" \
		REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/0}" PATH="$(abspath $(BIN)):$$PATH"; \
		flask --app wsgi db upgrade && exec honcho --procfile Procfile start

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info postman/node_modules
