"""The OpenAI SDK's retry policy, end to end: LiteLLM's native ``openai/`` path (the SDK
retries), ``edgequake/openai/`` and transparent mode (the core retries) against a mock
upstream that fails the first N attempts. Each way must make the same number of upstream
attempts, end with the same response or the same exception, and respect ``max_retries``.

The SDK retries connection errors, timeouts, 408, 409, 429 and 5xx, honouring ``retry-after``
up to 60 s (the scenarios send ``retry_after=0.01`` to keep the suite quick; ``500`` and the
connection reset use the SDK's own backoff)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from .conftest import KEY
from .routes import error_view, stable_dump, three_ways
from .test_differential import MSGS, _raise

MODEL = "openai/gpt-4o-mini"

RETRIED = [
    ("408", "status=408,retry_after=0.01"),
    ("409", "status=409,retry_after=0.01"),
    ("429", "status=429,retry_after=0.01"),
    ("500_backoff", "status=500"),
    ("502", "status=502,retry_after=0.01"),
    ("503", "status=503,retry_after=0.01"),
    ("504", "status=504,retry_after=0.01"),
    ("529", "status=529,retry_after=0.01"),
    ("connection_reset", "reset"),
]


def _attempts(mock, scenario: str, fn) -> tuple[Any, int, list[str | None]]:
    """``fn()``'s result (or exception), the upstream attempts it made, and the
    ``x-stainless-retry-count`` each attempt carried."""
    mock.reset()
    try:
        out: Any = fn()
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        out = e
    reqs = [r for r in mock.requests() if r["path"].startswith(f"/s/{scenario}/")]
    return out, len(reqs), [r["headers"].get("x-stainless-retry-count") for r in reqs]


def _same_retry_counts(native: list[str | None], ours: list[str | None]) -> None:
    # The core does not send the SDK's telemetry headers; where it sends this one, it must agree.
    assert len(ours) == len(native)
    for n, o in zip(native, ours):
        assert o is None or o == n, (native, ours)


def _run(mock, scenario: str, make_call) -> tuple[tuple, tuple, tuple]:
    return three_ways(lambda model: _attempts(mock, scenario, lambda: make_call(model)), MODEL)


def _kw(mock, scenario: str, **extra: Any) -> dict[str, Any]:
    return {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(scenario), **extra}


@pytest.mark.parametrize(("name", "scenario"), RETRIED, ids=[c[0] for c in RETRIED])
def test_retried_until_success(litellm, mock, name, scenario):
    scenario = f"{scenario},fail_times=2"
    native, ours, transparent = _run(mock, scenario, lambda m: litellm.completion(model=m, **_kw(mock, scenario)))
    assert native[1] == 3, native  # two retries by default
    for other in (ours, transparent):
        assert not isinstance(other[0], Exception), other[0]
        assert other[1] == native[1]
        _same_retry_counts(native[2], other[2])
    assert ours[0].model_dump() == native[0].model_dump()
    assert transparent[0].model_dump() == native[0].model_dump()


@pytest.mark.parametrize(("name", "scenario"), RETRIED, ids=[c[0] for c in RETRIED])
def test_retries_exhausted_same_error(litellm, mock, name, scenario):
    scenario = f"{scenario},fail_times=3"
    native, ours, transparent = _run(mock, scenario, lambda m: litellm.completion(model=m, **_kw(mock, scenario)))
    assert isinstance(native[0], Exception) and native[1] == 3
    for other in (ours, transparent):
        assert other[1] == native[1]
        assert error_view(other[0]) == error_view(native[0])
    assert getattr(ours[0], "llm_provider", None) == getattr(native[0], "llm_provider", None)


@pytest.mark.parametrize(
    ("max_retries", "attempts"), [(0, 1), (1, 2), (3, 4)], ids=["max_retries=0", "max_retries=1", "max_retries=3"]
)
def test_max_retries_respected(litellm, mock, max_retries, attempts):
    scenario = "status=503,retry_after=0.01,fail_times=9"
    native, ours, transparent = _run(
        mock, scenario, lambda m: litellm.completion(model=m, **_kw(mock, scenario, max_retries=max_retries))
    )
    assert native[1] == attempts
    for other in (ours, transparent):
        assert other[1] == attempts
        assert error_view(other[0]) == error_view(native[0])


def test_not_retried_statuses(litellm, mock):
    """400 is final at once, whatever ``max_retries`` says."""
    scenario = "status=400,fail_times=1"
    native, ours, transparent = _run(
        mock, scenario, lambda m: litellm.completion(model=m, **_kw(mock, scenario, max_retries=3))
    )
    assert native[1] == ours[1] == transparent[1] == 1
    assert error_view(ours[0]) == error_view(native[0]) == error_view(transparent[0])


def test_timeout_retried(litellm, mock):
    """A timed-out attempt is retried; the reply of the next one is the answer. (The
    upstream holds the first attempt far longer than the timeout, so load cannot change
    which attempt times out.)"""
    scenario = "delay=60,fail_times=1"
    native, ours, transparent = _run(
        mock, scenario, lambda m: litellm.completion(model=m, **_kw(mock, scenario, timeout=5))
    )
    assert native[1] == ours[1] == transparent[1] == 2
    assert ours[0].model_dump() == native[0].model_dump() == transparent[0].model_dump()


def test_stream_retried(litellm, mock):
    scenario = "status=503,retry_after=0.01,fail_times=2"

    def call(m: str) -> list:
        return [stable_dump(c) for c in litellm.completion(model=m, stream=True, **_kw(mock, scenario))]

    native, ours, transparent = _run(mock, scenario, call)
    assert native[1] == ours[1] == transparent[1] == 3
    assert transparent[0] == native[0]
    texts = [[c["choices"][0]["delta"].get("content") or "" for c in r[0] if c["choices"]] for r in (native, ours)]
    assert "".join(texts[1]) == "".join(texts[0]) != ""


def test_async_retried(litellm, mock):
    scenario = "status=429,retry_after=0.01,fail_times=2"
    native, ours, transparent = _run(
        mock, scenario, lambda m: asyncio.run(litellm.acompletion(model=m, **_kw(mock, scenario)))
    )
    assert native[1] == ours[1] == transparent[1] == 3
    assert ours[0].model_dump() == native[0].model_dump() == transparent[0].model_dump()


def test_embedding_retried(litellm, mock):
    scenario = "status=500,retry_after=0.01,fail_times=2"
    kw = {"input": ["a", "b"], "api_key": KEY, "api_base": mock.base_url(scenario)}
    results = []
    for model in ("openai/text-embedding-3-small", "edgequake/openai/text-embedding-3-small"):
        results.append(_attempts(mock, scenario, lambda m=model: litellm.embedding(model=m, **kw)))
    assert results[0][1] == results[1][1] == 3
    assert results[1][0].model_dump() == results[0][0].model_dump()


def test_connection_refused_retried_and_raised(litellm):
    """Nothing listens: every way tries 1 + max_retries times and raises the same error."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kw = {"messages": MSGS, "api_key": KEY, "api_base": f"http://127.0.0.1:{port}/v1", "max_retries": 1}
    native, ours, transparent = three_ways(lambda m: _raise(lambda: litellm.completion(model=m, **kw)), MODEL)
    assert error_view(ours) == error_view(native) == error_view(transparent)
