# One entry point for developers and CI. `make help` lists the targets.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
WHEEL_VENV := $(abspath .wheel-venv)
# Keep Rust builds across fresh clones on the same machine (CI clones anew every run).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/edgequake-litellm/target
export LITELLM_LOCAL_MODEL_COST_MAP := True
export PYTHON_SYS_EXECUTABLE := $(abspath $(PY))
export PYO3_PYTHON := $(abspath $(PY))
# The crate's sources, hashed when a recipe runs; compiled into the core (rust/build.rs), so a
# build never takes another checkout's artifact for fresh, and `make build` checks it did not.
export EDGEQUAKE_SOURCE_DIGEST = $(shell find rust Cargo.toml Cargo.lock -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)

OLDEST_VENV := .venv-oldest
SDIST_VENV := $(abspath .sdist-venv)

.PHONY: help setup build demo test test-rust test-python test-wheel test-sdist test-oldest lint stubtest format bench bench-pytest

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.deps: requirements-dev.txt requirements-proxy.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -r requirements-proxy.txt
	touch $@

setup: $(VENV)/.deps  ## create .venv with the pinned tools and LiteLLM

build: setup  ## compile the Rust core into the package (release, in place)
	@# maturin pip-installs the package's dependencies (setup already did): PIP_QUIET keeps
	@# pip's "Requirement already satisfied" lines out; errors still print. maturin installs
	@# into $$VIRTUAL_ENV when set: a caller's activated venv must not get this tree's package.
	VIRTUAL_ENV=$(abspath $(VENV)) PIP_QUIET=1 $(PY) -m maturin develop --release --quiet
	@built=$$($(PY) -c 'import edgequake_litellm._core as c; print(c.__source_digest__)'); \
		test "$$built" = "$$EDGEQUAKE_SOURCE_DIGEST" || { echo "the built core ($$built) is not this checkout's sources ($$EDGEQUAKE_SOURCE_DIGEST)"; exit 1; }

demo: build  ## set up, build and run the demo against the local mock upstream
	$(PY) -m edgequake_litellm demo

test-rust: setup  ## Rust unit tests
	cargo test --quiet --lib

test-python: build  ## pytest suite against real local servers
	$(PY) -m pytest -q

lint: setup  ## cargo fmt, clippy, ruff; mypy on the accelerators (which read LiteLLM's and asyncio's internals)
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	$(VENV)/bin/ruff check edgequake_litellm tests benchmarks
	$(VENV)/bin/ruff format --check edgequake_litellm tests benchmarks
	$(VENV)/bin/python -m mypy --follow-imports=silent edgequake_litellm/accel edgequake_litellm/_sdk_shape.py edgequake_litellm/_logging_pace.py edgequake_litellm/_cache_price.py

test-wheel: setup  ## build the abi3 wheel and use it from a clean virtual environment
	rm -rf dist && $(PY) -m maturin build --release --quiet --out dist
	rm -rf $(WHEEL_VENV) && python3 -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip install --quiet dist/*.whl
	cd $(WHEEL_VENV) && $(WHEEL_VENV)/bin/python $(CURDIR)/tests/wheel_smoke.py

test-sdist: setup  ## build the sdist and pip-install it (compiling the Rust core) into a clean venv
	rm -rf dist-sdist && $(PY) -m maturin sdist --out dist-sdist
	rm -rf $(SDIST_VENV) && python3 -m venv $(SDIST_VENV)
	$(SDIST_VENV)/bin/python -m pip install --quiet dist-sdist/*.tar.gz
	cd $(SDIST_VENV) && $(SDIST_VENV)/bin/python $(CURDIR)/tests/wheel_smoke.py

$(OLDEST_VENV)/.deps: requirements-oldest.txt
	python3 -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST_VENV)/bin/python -m pip install --quiet -r requirements-oldest.txt
	touch $@

test-oldest: build $(OLDEST_VENV)/.deps  ## the contract and differential tests on the oldest supported LiteLLM
	PYTHONPATH=$(CURDIR) $(OLDEST_VENV)/bin/python -m pytest -q -p no:cacheprovider \
		tests/test_contract.py tests/test_patch.py tests/test_differential.py tests/test_install.py tests/test_patch_text.py

stubtest: build  ## check edgequake_litellm/_core.pyi against the compiled module
	$(PY) -m mypy.stubtest edgequake_litellm._core

format:  ## apply cargo fmt and ruff format
	cargo fmt
	$(VENV)/bin/ruff format edgequake_litellm tests benchmarks
	$(VENV)/bin/ruff check --fix edgequake_litellm tests benchmarks

test: lint test-rust stubtest test-python test-oldest test-wheel test-sdist  ## everything CI runs: lint, Rust tests, stub check, Python tests (newest and oldest LiteLLM), wheel install

bench: build  ## benchmarks: every contender on a local nginx; writes docs/performance.md and its plot (~15 min)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) benchmarks/compare.py --write docs/performance.md

bench-pytest: build  ## pytest-benchmark cases for the per-call paths (not in `make test`)
	$(PY) -m pip install --quiet -r benchmarks/requirements.txt
	$(PY) -m pytest benchmarks -p no:cacheprovider
