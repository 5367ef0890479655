"""The ``edgequake/`` route's cache hits save what LiteLLM's native route saves.

A cache hit's standard logging payload carries ``saved_cache_cost``: what the answer would have
cost uncached. LiteLLM prices the call's model and provider again for it, and on the
``edgequake/`` route it found no price (``edgequake``), so the saving read 0. Compared here with
LiteLLM's own route for the same model, over a priced chat model of every provider the core
serves that LiteLLM can price, and usage with cached and reasoning tokens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

import edgequake_litellm
from edgequake_litellm import _cache_price
from edgequake_litellm._call import served_providers
from edgequake_litellm.testing import MockUpstream, drain_litellm_logging

KEY = "sk-cache-price-0123456789"
SCENARIO = "cached=2,reasoning=1"
# Providers whose native LiteLLM route cannot be pointed at the mock as it is: why, printed.
NOT_COMPARED = {
    "azure": "needs an api_version and a deployment name, not a model name",
    "gemini": "LiteLLM's native Gemini route builds Google's URL from the model, not api_base",
}


def _corpus(litellm: Any) -> list[tuple[str, str]]:
    """(provider, model): the first priced chat model LiteLLM knows for each served provider."""
    out = []
    for provider in sorted(served_providers()):
        if provider in NOT_COMPARED:
            print(f"not compared: {provider}: {NOT_COMPARED[provider]}")
            continue
        names = sorted(
            name
            for name, info in litellm.model_cost.items()
            if info.get("litellm_provider") == provider
            and info.get("mode") == "chat"
            and (info.get("input_cost_per_token") or 0) > 0
            and (info.get("output_cost_per_token") or 0) > 0
        )
        if names:
            out.append((provider, names[0].removeprefix(f"{provider}/")))
    return out


class _Hits:
    """Each cache hit's payload and the keys of its callback kwargs, by route and message (one
    message per model and way of calling)."""

    def __init__(self) -> None:
        from litellm.integrations.custom_logger import CustomLogger

        hits: dict[str, dict[str, Any]] = {}
        self.hits = hits

        def record(kwargs: dict[str, Any]) -> None:
            payload = kwargs["standard_logging_object"]
            if payload["cache_hit"] is True:
                route = "edgequake" if kwargs["litellm_params"]["custom_llm_provider"] == "edgequake" else "native"
                hits[f"{route} {kwargs['messages'][0]['content']}"] = {"payload": payload, "keys": set(kwargs)}

        class _Logger(CustomLogger):
            def log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
                record(kwargs)

            async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
                record(kwargs)

        self.logger = _Logger()

    def compare(self, tag: str) -> float:
        """The saving the ``edgequake/`` route logged for the call tagged ``tag``, once checked
        equal to the native route's."""
        native, ours = self.hits.get(f"native {tag}"), self.hits.get(f"edgequake {tag}")
        assert native is not None and ours is not None, (tag, sorted(self.hits))
        saved = native["payload"]["saved_cache_cost"]
        assert saved > 0, tag
        assert ours["payload"]["saved_cache_cost"] == saved, tag
        # The route's own names stay on the call: only the price is the upstream's.
        assert ours["payload"]["custom_llm_provider"] == "edgequake", tag
        # LiteLLM prices an async stream's assembled answer as the route (``edgequake``) before the
        # core's price is stamped, and keeps the failure's debug record: a known difference of the
        # route, not of the cache hit's price.
        known = {"response_cost_failure_debug_information"} if tag.startswith("async-stream") else set()
        ours_only, native_only = ours["keys"] - native["keys"] - known, native["keys"] - ours["keys"]
        assert not ours_only and not native_only, (tag, ours_only, native_only)
        return saved


_CALLBACK_LISTS = (
    "callbacks",
    "input_callback",
    "success_callback",
    "failure_callback",
    "_async_success_callback",
    "_async_failure_callback",
)


@pytest.fixture()
def cached(litellm: Any) -> Iterator[_Hits]:
    from litellm.caching.caching import Cache

    hits = _Hits()
    # A Cache adds itself to LiteLLM's callback lists, and a call adds the logger to them: every
    # list is put back as it was, or later tests' calls run them.
    lists = {name: (getattr(litellm, name), list(getattr(litellm, name))) for name in _CALLBACK_LISTS}
    previous = litellm.cache
    litellm.cache = Cache(type="local")
    litellm.callbacks = [hits.logger]
    try:
        yield hits
    finally:
        drain_litellm_logging()
        litellm.cache = previous
        for name, (same, items) in lists.items():
            same[:] = items
            setattr(litellm, name, same)


def _kw(route: str, provider: str, model: str, base: str, how: str) -> dict[str, Any]:
    name = f"{provider}/{model}" if route == "native" else f"edgequake/{provider}/{model}"
    # The same words on both routes: a stream without usage is priced by counting them.
    messages = [{"role": "user", "content": f"{how} {provider}/{model}"}]
    api_base = base.removesuffix("/v1") if provider == "anthropic" else base
    return {"model": name, "messages": messages, "api_base": api_base, "api_key": KEY, "caching": True}


def _twice(litellm: Any, kw: dict[str, Any], stream: bool = False) -> None:
    for _ in range(2):
        out = litellm.completion(**kw, stream=stream)
        if stream:
            for _ in out:
                pass


async def _atwice(litellm: Any, kw: dict[str, Any], stream: bool = False) -> None:
    for first in (True, False):
        out = await litellm.acompletion(**kw, stream=stream)
        if stream:
            async for _ in out:
                pass
        # An async call's answer is cached by its success handler, on this loop after the call.
        deadline = time.monotonic() + 10
        while first and litellm.cache.get_cache(**kw, stream=stream) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)


def test_cache_hits_save_what_native_saves(litellm: Any, cached: _Hits, mock: MockUpstream) -> None:
    assert edgequake_litellm.status()["uncached_price"] == "installed"
    base = mock.base_url(SCENARIO)
    corpus = _corpus(litellm)
    assert len(corpus) >= 10, corpus
    for provider, model in corpus:
        for route in ("native", "edgequake"):
            _twice(litellm, _kw(route, provider, model, base, "sync"))
    drain_litellm_logging()
    compared = [f"{p}/{m}: {cached.compare(f'sync {p}/{m}')}" for p, m in corpus]
    print(f"cache hits compared: {compared}")


@pytest.mark.parametrize("provider, model", [("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku-4-5")])
async def test_every_way_of_calling(litellm: Any, cached: _Hits, mock: MockUpstream, provider: str, model: str) -> None:
    """LiteLLM names the call and its cached answer differently when it streams and when it runs
    async (a cached stream's answer names the route in its hidden params)."""
    base = mock.base_url(SCENARIO)
    for route in ("native", "edgequake"):
        _twice(litellm, _kw(route, provider, model, base, "sync-stream"), stream=True)
        await _atwice(litellm, _kw(route, provider, model, base, "async"))
        await _atwice(litellm, _kw(route, provider, model, base, "async-stream"), stream=True)
    tags = [f"{how} {provider}/{model}" for how in ("sync-stream", "async", "async-stream")]
    expected = {f"{route} {tag}" for route in ("native", "edgequake") for tag in tags}
    deadline = time.monotonic() + 10
    while not expected <= cached.hits.keys() and time.monotonic() < deadline:
        drain_litellm_logging()
        await asyncio.sleep(0.05)  # LiteLLM's async callbacks run on this loop: let it turn
    for tag in tags:
        cached.compare(tag)


def test_a_double_already_there_is_left_alone(litellm: Any) -> None:
    from litellm.litellm_core_utils.litellm_logging import Logging

    edgequake_litellm.uninstall()
    assert vars(Logging)["uncached_price"] is not _cache_price.uncached_price
    try:
        with mock.patch.object(Logging, "uncached_price") as double:
            edgequake_litellm.install()
            assert vars(Logging)["uncached_price"] is double
            assert edgequake_litellm.status()["uncached_price"].startswith("left alone")
        edgequake_litellm.uninstall()
        edgequake_litellm.install()
        assert vars(Logging)["uncached_price"] is _cache_price.uncached_price
    finally:
        edgequake_litellm.install()


def test_uninstall_puts_litellms_function_back(litellm: Any) -> None:
    from litellm.litellm_core_utils.litellm_logging import Logging

    assert vars(Logging)["uncached_price"] is _cache_price.uncached_price
    original = _cache_price._original[0]
    try:
        edgequake_litellm.uninstall()
        assert vars(Logging)["uncached_price"] is original
        assert edgequake_litellm.status()["uncached_price"] == "not installed"
    finally:
        edgequake_litellm.install()
