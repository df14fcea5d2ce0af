# Opora: `make run` serves the demo on the embedded default; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test test-fast bench lint typecheck lock messages clean

$(VENV)/.installed: requirements.lock pyproject.toml
	@bash scripts/ensure-python.sh $(PY) $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

install: $(VENV)/.installed

run: install
	@bash scripts/run.sh $(PORT)

test: install
	@bash scripts/test.sh

bench: install
	@bash scripts/bench.sh

lint: install
	$(BIN)/ruff check opora e2e bench
	$(BIN)/ruff format --check opora e2e bench

# Types: mypy with django-stubs, configured in pyproject.toml ([tool.mypy]).
typecheck: install
	$(BIN)/mypy

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock:
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock

messages: install
	$(BIN)/opora makemessages -l ru -l kk -l en --ignore=.venv --ignore=var --ignore=e2e --ignore=bench
	$(BIN)/opora compilemessages --ignore=.venv

clean:
	rm -rf var $(VENV)
