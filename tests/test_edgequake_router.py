"""LiteLLM's features above the provider call, through ``edgequake/``: the Router (fallbacks,
retries, cooldowns), the cache and callback payloads must behave as for LiteLLM's own
``openai/`` route against the same mock upstream. (Transparent mode has the same checks in
tests/test_patch_routes.py.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from . import test_patch_routes
from .conftest import KEY
from .test_differential import MSGS
from .test_patch_routes import _logged, _marked, capture  # noqa: F401 - capture is a fixture

NATIVE = "openai/gpt-4o-mini"
OURS = "edgequake/openai/gpt-4o-mini"

# ---- Router -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "timeout"),
    [("status=429", None), ("status=500", None), ("status=401", None), ("delay=2", 0.3)],
    ids=["429", "500", "401", "timeout"],
)
def test_router_choices_equal(litellm, mock, monkeypatch, bad, timeout):
    """Which deployment answered each call, the exceptions, and the upstream paths in order."""
    native = test_patch_routes._router_run(litellm, mock, bad, timeout)
    monkeypatch.setattr(test_patch_routes, "MODEL", OURS)
    ours = test_patch_routes._router_run(litellm, mock, bad, timeout)
    assert ours == native
    assert any(o[0] == "ok" and o[1] == "good" for o in native[:3])


def _fallback_run(litellm, mock, model: str, bad: str, *, stream: bool = False, kind: str = "fallbacks") -> list[Any]:
    mock.reset()
    router = litellm.Router(
        model_list=[
            {
                "model_name": "primary",
                "litellm_params": {"model": model, "api_base": mock.base_url(bad), "api_key": KEY, "max_retries": 0},
            },
            {
                "model_name": "backup",
                "litellm_params": {"model": model, "api_base": mock.base_url(), "api_key": KEY},
            },
        ],
        **{kind: [{"primary": ["backup"]}]},
        num_retries=0,
    )

    async def call() -> Any:
        if stream:
            chunks = [c async for c in await router.acompletion(model="primary", messages=MSGS, stream=True)]
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        r = await router.acompletion(model="primary", messages=MSGS)
        return r.choices[0].message.content, r._hidden_params.get("model_group")

    try:
        out: Any = asyncio.run(call())
    except Exception as e:  # noqa: BLE001
        out = ("error", type(e).__name__)
    return [out, [r["path"] for r in mock.requests()]]


@pytest.mark.parametrize("bad", ["status=429", "status=503", "error=context_length", "status=400"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_router_fallbacks_equal(litellm, mock, bad, stream):
    native = _fallback_run(litellm, mock, NATIVE, bad, stream=stream)
    ours = _fallback_run(litellm, mock, OURS, bad, stream=stream)
    assert ours == native
    assert native[1][-1] == "/v1/chat/completions"  # the backup answered


@pytest.mark.parametrize(
    ("kind", "bad", "falls_back"),
    [
        ("context_window_fallbacks", "error=context_length", True),
        ("context_window_fallbacks", "status=400", False),
        ("context_window_fallbacks", "status=429", False),
        ("content_policy_fallbacks", "error=content_filter", False),  # openai: BadRequestError
        ("content_policy_fallbacks", "error=context_length", False),
    ],
)
def test_router_error_class_fallbacks_equal(litellm, mock, kind, bad, falls_back):
    """Fallbacks LiteLLM takes only for one exception class: the class must be LiteLLM's."""
    native = _fallback_run(litellm, mock, NATIVE, bad, kind=kind)
    ours = _fallback_run(litellm, mock, OURS, bad, kind=kind)
    assert ours == native
    assert (native[0][0] != "error") is falls_back, native


# ---- cache ------------------------------------------------------------------------------


def _cached_run(litellm, mock, model: str, *, is_async: bool) -> tuple:
    from litellm.caching.caching import Cache

    mock.reset()
    litellm.cache = Cache(type="local")
    try:
        kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "caching": True, "temperature": 0.4}
        if is_async:

            async def two() -> tuple:
                first = await litellm.acompletion(model=model, **kw)
                # LiteLLM stores an async result from a task after returning it: wait for the entry.
                for _ in range(500):
                    if litellm.cache.cache.cache_dict:
                        break
                    await asyncio.sleep(0.02)
                return first, await litellm.acompletion(model=model, **kw)

            first, second = asyncio.run(two())
        else:
            first, second = litellm.completion(model=model, **kw), litellm.completion(model=model, **kw)
    finally:
        litellm.cache = None
    return (
        first.choices[0].message.content,
        second.choices[0].message.content,
        first._hidden_params.get("cache_hit"),
        second._hidden_params.get("cache_hit"),
        second.id == first.id,
        len(mock.requests()),
    )


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_cache_hits_equal(litellm, mock, is_async):
    native = _cached_run(litellm, mock, NATIVE, is_async=is_async)
    ours = _cached_run(litellm, mock, OURS, is_async=is_async)
    assert native[3] is True and native[5] == 1
    assert ours == native


def test_embedding_cache_hits_equal(litellm, mock):
    from litellm.caching.caching import Cache

    def run(model: str) -> tuple:
        mock.reset()
        litellm.cache = Cache(type="local")
        try:
            kw = {"input": ["alpha"], "api_key": KEY, "api_base": mock.base_url(), "caching": True}
            first, second = litellm.embedding(model=model, **kw), litellm.embedding(model=model, **kw)
        finally:
            litellm.cache = None
        return first.data == second.data, second._hidden_params.get("cache_hit"), len(mock.requests())

    native = run("openai/text-embedding-3-small")
    assert native == (True, True, 1)
    assert run("edgequake/openai/text-embedding-3-small") == native


# ---- callback payloads ------------------------------------------------------------------

# StandardLoggingPayload fields that name the route the caller chose: the model string,
# the provider LiteLLM dispatched to, and what LiteLLM derives from them.
_ROUTE_FIELDS = {"model", "custom_llm_provider", "model_map_information", "model_group", "hidden_params"}


def _by_field(events: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    out = []
    for kind, p in events:
        p = {k: v for k, v in p.items() if k not in _ROUTE_FIELDS}
        if isinstance(p.get("error_information"), dict):
            # Where each side raised from: different code by design; class, code, message compared.
            p["error_information"] = {k: v for k, v in p["error_information"].items() if k != "traceback"}
        out.append((kind, p))
    return out


def _route_fields(events: list[tuple[str, dict]]) -> list[dict]:
    return [{k: p.get(k) for k in ("model", "custom_llm_provider")} for _, p in events]


def _compare_payloads(native: list, ours: list) -> None:
    assert native, "no callback fired"
    assert [k for k, _ in ours] == [k for k, _ in native]
    diffs = [
        (kind, field, n.get(field), o.get(field))
        for (kind, n), (_, o) in zip(_by_field(native), _by_field(ours))
        for field in sorted(set(n) | set(o))
        if o.get(field) != n.get(field)
    ]
    assert not diffs, "\n".join(repr(d)[:600] for d in diffs)
    for n, o in zip(_route_fields(native), _route_fields(ours)):
        assert n == {"model": "gpt-4o-mini", "custom_llm_provider": "openai"}
        assert o == {"model": "openai/gpt-4o-mini", "custom_llm_provider": "edgequake"}


@pytest.mark.parametrize("scenario", [None, "status=429", "error=context_length"], ids=["success", "429", "context"])
def test_callback_payloads_equal(litellm, mock, capture, scenario):  # noqa: F811
    results = []
    for model in (NATIVE, OURS):
        msgs = _marked(f"edgequake sync {scenario}")
        kw = {"messages": msgs, "api_key": KEY, "api_base": mock.base_url(scenario), "max_retries": 0}
        kw["metadata"] = {"team": "a"}

        def call(model: str = model, kw: dict = kw) -> None:
            try:
                litellm.completion(model=model, **kw)
            except (litellm.RateLimitError, litellm.ContextWindowExceededError):
                pass

        results.append(_strip_messages(_logged(capture, call, 1, msgs)))
    _compare_payloads(*results)


def _strip_messages(events: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    # Each run is marked by its own messages; everything else must match.
    return [(kind, {k: v for k, v in p.items() if k != "messages"}) for kind, p in events]


def test_async_callback_payloads_equal(litellm, mock, capture):  # noqa: F811
    results = []
    for model in (NATIVE, OURS):
        msgs = _marked("edgequake async")
        kw = {"messages": msgs, "api_key": KEY, "api_base": mock.base_url()}

        async def call(model: str = model, kw: dict = kw) -> None:
            await litellm.acompletion(model=model, **kw)
            await asyncio.sleep(0.5)  # LiteLLM's async callbacks run on this loop

        results.append(_strip_messages(_logged(capture, lambda c=call: asyncio.run(c()), 1, msgs)))
    _compare_payloads(*results)


_STREAM_COST_BREAKDOWN = pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="LiteLLM 1.110.2 prices a reassembled stream itself, for the provider it dispatched to "
    "(edgequake), and records no cost_breakdown for it; response_cost is equal (docs/providers.md)",
)


@pytest.mark.parametrize(
    "scenario", [pytest.param(None, marks=_STREAM_COST_BREAKDOWN), "status=429"], ids=["success", "429"]
)
def test_stream_callback_payloads_equal(litellm, mock, capture, scenario):  # noqa: F811
    results = []
    for model in (NATIVE, OURS):
        msgs = _marked(f"edgequake stream {scenario}")
        kw = {
            "messages": msgs,
            "api_key": KEY,
            "api_base": mock.base_url(scenario),
            "stream_options": {"include_usage": True},
            "max_retries": 0,
        }

        def call(model: str = model, kw: dict = kw) -> None:
            try:
                list(litellm.completion(model=model, stream=True, **kw))
            except litellm.RateLimitError:
                pass

        results.append(_strip_messages(_logged(capture, call, 1, msgs)))
    _compare_payloads(*results)
