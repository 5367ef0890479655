"""pytest-benchmark cases for the per-call paths; not part of the default test run.

    python -m pytest benchmarks -p no:cacheprovider

The default run collects ``tests/`` only (``testpaths``), and this module skips itself when
pytest-benchmark is not installed. The upstream is the project's mock in its own process.
"""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import pytest

pytest.importorskip("pytest_benchmark")

from compare import KEY, MESSAGES, MODEL, MockProcess, build_kind, setup_litellm  # benchmarks/ is on sys.path


@pytest.fixture(scope="module")
def base_url():
    with MockProcess() as up:
        yield up.base_url()


@pytest.fixture(scope="module")
def litellm():
    return setup_litellm()


def _run(benchmark, fn):
    for _ in range(20):  # warm the connection pools and LiteLLM's caches
        fn()
    benchmark.group = "sync per call"
    benchmark.extra_info["core_build"] = build_kind()
    result = benchmark(fn)
    assert result is not None


def test_native_sync(benchmark, litellm, base_url):
    _run(
        benchmark,
        lambda: litellm.completion(model=f"openai/{MODEL}", messages=MESSAGES, api_key=KEY, api_base=base_url),
    )


def test_edgequake_sync(benchmark, litellm, base_url):
    _run(
        benchmark,
        lambda: litellm.completion(
            model=f"edgequake/openai/{MODEL}", messages=MESSAGES, api_key=KEY, api_base=base_url
        ),
    )


def test_core_direct_sync(benchmark, base_url):
    from edgequake_litellm import _core

    _run(benchmark, lambda: _core.request("chat", "openai", MODEL, MESSAGES, {}, api_key=KEY, api_base=base_url))
