# Một Cửa: `make run` serves everything on one machine; `make test` checks everything.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint types pytest env clean

run: env
	@echo "Starting Một Cửa on http://127.0.0.1:$${MOTCUA_PORT:-8000} (API docs at /schema, Ctrl-C stops)."
	@echo "Staff key, from another terminal: $(BIN)/motcua keys create --tenant an-giang --role admin"
	$(BIN)/motcua serve --with-worker --upgrade --packs tenants

test: env lint types pytest

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

PLUGINS := $(notdir $(wildcard plugins/channels/*/motcua_channel_*))

types: env
	$(BIN)/mypy -p motcua $(addprefix -p ,$(PLUGINS))

pytest: env
	$(BIN)/pytest

env: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock $(wildcard plugins/channels/*/pyproject.toml) | $(UV)
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	@touch $@

# Without uv on the machine, bootstrap it from PyPI into a private folder.
.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
