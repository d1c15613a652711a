# Jifen: `make run` serves the portal on the embedded SQLite database with demo
# data; `make test` runs the whole suite (also on PostgreSQL when
# TEST_DATABASE_URL is set).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev migrate translations messages lint bench-help clean help

help:
	@echo "make run    serve the portal on http://$(HOST):$(PORT) with demo data (SQLite), and the worker"
	@echo "           (make run PORT=8080 HOST=0.0.0.0: another port, or every interface)"
	@echo "make test   run the test suite (SQLite, and PostgreSQL if TEST_DATABASE_URL is set)"
	@echo "make lint   ruff"
	@echo "make bench-help  the benchmarks (run by hand; see bench/README.md)"

bench-help:
	@echo "Benchmarks need PostgreSQL on 127.0.0.1, wrk and pgbench (apt-get install wrk postgresql-client):"
	@echo "  $(BIN)/python -m bench.bench_api --scale 0.01        earn and batch earn vs pgbench"
	@echo "      --reference: with the issue's reference earns and the earn's SQL alone"
	@echo "  $(BIN)/python -m bench.bench_portal --scale 1        member page, dashboard, history paging"
	@echo "  $(BIN)/python -m bench.bench_expiry --lots 1000000   points expire vs one SQL statement"
	@echo "  $(BIN)/python -m bench.bench_memory --scale 0.01     worker RSS over 10,000 requests"
	@echo "Results and method: bench/README.md"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

translations: $(VENV)/.installed
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q compile -d translations; fi

# After changing user-facing text: extract it and merge it into both catalogues
# (then translate the new entries of translations/zh_Hans_CN/LC_MESSAGES/messages.po).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations \
		--ignore-obsolete --width 100

migrate: install translations
	$(FLASK) db upgrade

# The portal and the background worker (webhooks, scheduled jobs) together;
# Ctrl-C stops both (the worker is stopped by the trap when the portal exits).
run: migrate
	@$(FLASK) seed-demo --if-empty --host $(HOST) --port $(PORT)
	@$(FLASK) worker --threads 4 & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev translations
	$(BIN)/python -m tests.run

lint: install-dev
	$(BIN)/ruff check app tests bench

clean:
	rm -rf $(VENV) .pytest_cache
