# Atende — make run / make test (see README.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8080
WORKERS ?= 4
export FLASK_APP := run

.PHONY: install run test test-pg translations check-translations clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null
	$(BIN)/pip install -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate translations

translations: $(BIN)/activate
	$(BIN)/pybabel compile -d app/translations --statistics

check-translations: $(BIN)/activate
	$(BIN)/python scripts/check_translations.py app/translations/pt_BR/LC_MESSAGES/messages.po

instance/secret_key:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > instance/secret_key

run: install instance/secret_key
	SECRET_KEY=$${SECRET_KEY:-$$(cat instance/secret_key)} $(BIN)/flask --app run db upgrade
	SECRET_KEY=$${SECRET_KEY:-$$(cat instance/secret_key)} $(BIN)/flask --app run init
	SECRET_KEY=$${SECRET_KEY:-$$(cat instance/secret_key)} $(BIN)/flask --app run seed-demo
	SECRET_KEY=$${SECRET_KEY:-$$(cat instance/secret_key)} $(BIN)/gunicorn --workers $(WORKERS) --worker-class sync \
		--bind 127.0.0.1:$(PORT) --access-logfile - run:app

test: install check-translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: install
	DATABASE_URL=$${DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance/atende.db
