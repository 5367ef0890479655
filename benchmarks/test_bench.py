"""pytest-benchmark cases for the per-call paths; not part of the default test run.

    python -m pytest benchmarks -p no:cacheprovider     (after `pip install -r benchmarks/requirements.txt`)

The default run collects ``tests/`` only (``testpaths`` in pyproject.toml), and this module skips
itself, with its reason, when pytest-benchmark is not installed. The upstream is the same nginx
that ``compare.py`` uses (started for the module, stopped after it). LiteLLM's
``install(patch=True)`` changes LiteLLM for the whole process, so the transparent mode is
measured by ``compare.py`` (a process per contender), not here.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from typing import Any

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import pytest

pytest.importorskip("pytest_benchmark", reason="pytest-benchmark is not installed (benchmarks/requirements.txt)")

from compare import build_kind  # noqa: E402  (benchmarks/ is on sys.path: rootdir-relative import)
from upstream import KEY, MESSAGES, MODEL, Nginx  # noqa: E402


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with Nginx() as nginx:
        yield nginx.base_url("json")


@pytest.fixture(scope="module")
def litellm() -> Any:
    import litellm

    import edgequake_litellm

    litellm.suppress_debug_info = True
    edgequake_litellm.install()
    return litellm


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _run(benchmark: Any, group: str, fn: Callable[[], Any]) -> None:
    for _ in range(20):  # warm the connection pools and LiteLLM's caches
        fn()
    benchmark.group = group
    benchmark.extra_info["core_build"] = build_kind()
    result = benchmark(fn)
    assert result is not None


def _sync(benchmark: Any, fn: Callable[[], Any]) -> None:
    _run(benchmark, "sync per call", fn)


def _async(benchmark: Any, loop: asyncio.AbstractEventLoop, make: Callable[[], Any]) -> None:
    async def once() -> Any:
        return await make()

    _run(benchmark, "async per call", lambda: loop.run_until_complete(once()))


def _kw(base_url: str) -> dict[str, Any]:
    return {"messages": MESSAGES, "api_key": KEY, "api_base": base_url}


def test_native_sync(benchmark: Any, litellm: Any, base_url: str) -> None:
    _sync(benchmark, lambda: litellm.completion(model=f"openai/{MODEL}", **_kw(base_url)))


def test_edgequake_sync(benchmark: Any, litellm: Any, base_url: str) -> None:
    _sync(benchmark, lambda: litellm.completion(model=f"edgequake/openai/{MODEL}", **_kw(base_url)))


def test_direct_sync(benchmark: Any, base_url: str) -> None:
    import edgequake_litellm

    _sync(benchmark, lambda: edgequake_litellm.completion(model=f"openai/{MODEL}", **_kw(base_url)))


def test_core_sync(benchmark: Any, base_url: str) -> None:
    from edgequake_litellm import _core

    _sync(benchmark, lambda: _core.request("chat", "openai", MODEL, MESSAGES, {}, api_key=KEY, api_base=base_url))


def test_sdk_sync(benchmark: Any, base_url: str) -> None:
    import openai

    client = openai.OpenAI(base_url=base_url, api_key=KEY)
    _sync(benchmark, lambda: client.chat.completions.create(model=MODEL, messages=MESSAGES))  # type: ignore[arg-type]


def test_native_async(benchmark: Any, litellm: Any, base_url: str, loop: asyncio.AbstractEventLoop) -> None:
    _async(benchmark, loop, lambda: litellm.acompletion(model=f"openai/{MODEL}", **_kw(base_url)))


def test_edgequake_async(benchmark: Any, litellm: Any, base_url: str, loop: asyncio.AbstractEventLoop) -> None:
    _async(benchmark, loop, lambda: litellm.acompletion(model=f"edgequake/openai/{MODEL}", **_kw(base_url)))


def test_direct_async(benchmark: Any, base_url: str, loop: asyncio.AbstractEventLoop) -> None:
    import edgequake_litellm

    _async(benchmark, loop, lambda: edgequake_litellm.acompletion(model=f"openai/{MODEL}", **_kw(base_url)))


def test_core_async(benchmark: Any, base_url: str, loop: asyncio.AbstractEventLoop) -> None:
    from edgequake_litellm import _core

    _async(
        benchmark,
        loop,
        lambda: _core.arequest("chat", "openai", MODEL, MESSAGES, {}, api_key=KEY, api_base=base_url),
    )
