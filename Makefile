# claims-di: `make run` then `make test` on a fresh machine. Everything installs from requirements.lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-12)
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install browser run test lint format sample bench lock clean

install: $(STAMP)

# uv installs exactly the pinned set (no resolver at install time), so every machine gets the same
# packages, and opencv-python (which layoutparser asks for) never lands beside opencv-python-headless.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(BIN)/claims run sample_docs

# Browser tests of the review app drive Debian's Chromium (Playwright cannot download browsers here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

test: install browser
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The committed sample batch; regenerate after changing synth/ (same seed, same bytes).
sample: install
	rm -rf sample_docs
	$(BIN)/claims synth docs --out sample_docs --claims 30 --seed 21 --problem-rate 0.1

bench: install
	@for b in bench/*.py; do n=$$(basename $$b .py); [ $$n = __init__ ] || $(BIN)/python -m bench.$$n --json || exit 1; done

# Re-pin after changing dependencies in pyproject.toml; commit requirements.lock with the change.
lock: install
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --extra dask --override lock/overrides.txt \
		--python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
