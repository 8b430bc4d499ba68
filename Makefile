# Atende — make run / make test (see README.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
WORKERS ?= 4
export FLASK_APP := run

CATALOG := app/translations/pt_BR/LC_MESSAGES/messages.po
WITH_KEY := SECRET_KEY=$${SECRET_KEY:-$$(cat instance/secret_key)}

.PHONY: install install-dev run test test-e2e test-pg translations check-translations clean

# runtime requirements for `make run`; the test tools (pytest, Playwright…) only for `make test`
$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null
	touch $(BIN)/activate

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime translations

install-dev: $(VENV)/.dev translations

translations: $(VENV)/.runtime
	@test -f $(CATALOG) || { echo "ERRO: catálogo $(CATALOG) ausente (não versionado?)" >&2; exit 1; }
	$(BIN)/pybabel compile -d app/translations --statistics

check-translations: $(VENV)/.runtime
	@test -f scripts/check_translations.py || { echo "ERRO: scripts/check_translations.py ausente" >&2; exit 1; }
	$(BIN)/python scripts/check_translations.py $(CATALOG)

instance/secret_key:
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > instance/secret_key

# the demo is served over plain HTTP on 127.0.0.1: its session cookie cannot be Secure (README, SESSION_COOKIE_SECURE)
run: install instance/secret_key
	$(WITH_KEY) $(BIN)/flask --app run db upgrade
	$(WITH_KEY) $(BIN)/flask --app run init
	$(WITH_KEY) $(BIN)/flask --app run seed-demo
	@echo "Atende em http://127.0.0.1:$(PORT)/"
	$(WITH_KEY) SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-0} exec $(BIN)/gunicorn --workers $(WORKERS) --worker-class sync \
		--bind 127.0.0.1:$(PORT) --access-logfile - run:app

test: install-dev check-translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-e2e: install-dev
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

test-pg: install-dev
	DATABASE_URL=$${DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance/atende.db
