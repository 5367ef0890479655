"""Transparent mode around the call: callbacks see the same payloads, the Router makes the
same choices, unsupported shapes fall back to LiteLLM's own code (and say so), and
install/uninstall leave LiteLLM exactly as it was."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import edgequake_litellm
from edgequake_litellm import _patch

from .conftest import KEY
from .test_differential import MSGS, TOOLS
from .test_patch import MODEL, both, count_delta, kwargs, patched, route_counts

# ---- callbacks --------------------------------------------------------------------------

# Paths in LiteLLM's standard logging payload that differ between any two calls, and only
# those: the ids LiteLLM and the upstream make per call, and clocks. Everything else (tool-call
# ids included: they come from the upstream) is compared.
_VOLATILE: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("trace_id",),
    ("litellm_call_id",),
    ("startTime",),
    ("endTime",),
    ("completionStartTime",),
    ("response_time",),
    ("response", "id"),
    ("response", "created"),  # LiteLLM stamps streamed responses with its own clock
    ("hidden_params", "litellm_overhead_time_ms"),
    ("hidden_params", "additional_headers", "request-id"),
    ("hidden_params", "additional_headers", "x-request-id"),
    ("hidden_params", "additional_headers", "llm_provider-request-id"),
    ("hidden_params", "additional_headers", "llm_provider-x-request-id"),
    ("error_information", "error_provider_request_id"),
)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _scrub(payload: dict) -> dict:
    out = _copy(payload)
    for path in _VOLATILE:
        node: Any = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


class Capture:
    def __init__(self) -> None:
        from litellm.integrations.custom_logger import CustomLogger

        seen: list[tuple[str, dict]] = []
        self.seen = seen

        class _Logger(CustomLogger):
            def log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
                seen.append(("success", kwargs["standard_logging_object"]))

            def log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
                seen.append(("failure", kwargs["standard_logging_object"]))

            async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
                seen.append(("async_success", kwargs["standard_logging_object"]))

            async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001
                seen.append(("async_failure", kwargs["standard_logging_object"]))

        self.logger = _Logger()


@pytest.fixture()
def capture(litellm):
    cap = Capture()
    litellm.callbacks = [cap.logger]
    yield cap
    litellm.callbacks = []
    for name in ("success_callback", "failure_callback", "_async_success_callback", "_async_failure_callback"):
        lst = getattr(litellm, name)
        lst[:] = [c for c in lst if c is not cap.logger]


def _marked(name: str) -> list[dict]:
    """Messages that tag this test's calls: LiteLLM's logging worker may deliver late events of
    earlier tests' calls to the next event loop, and those must not be compared."""
    return [{"role": "user", "content": f"callbacks of {name}"}]


def _logged(cap: Capture, fn, n: int, messages: list[dict]) -> list[tuple[str, Any]]:
    import time

    cap.seen.clear()
    fn()
    deadline = time.time() + 10
    while sum(p.get("messages") == messages for _, p in cap.seen) < n and time.time() < deadline:
        time.sleep(0.02)
    # Then until no more arrive for a while: the next run must not see this run's events.
    settled = len(cap.seen)
    while time.time() < deadline:
        time.sleep(0.3)
        if len(cap.seen) == settled:
            break
        settled = len(cap.seen)
    import json

    mine = [(kind, _scrub(p)) for kind, p in cap.seen if p.get("messages") == messages]
    return sorted(mine, key=lambda e: json.dumps(e, default=str))


@pytest.mark.parametrize(
    ("scenario", "extra"),
    [(None, {}), ("status=429", {}), (None, {"tools": TOOLS, "tool_choice": "required"})],
    ids=["ok", "429", "tool_call"],
)
def test_callback_payloads_equal(litellm, mock, capture, scenario, extra):
    msgs = _marked(f"sync {scenario} {sorted(extra)}")
    kw = {**kwargs(mock, scenario, max_retries=0, metadata={"team": "a"}, **extra), "messages": msgs}

    def call():
        try:
            litellm.completion(model=MODEL, **kw)
        except litellm.RateLimitError:
            pass

    native, ours = both(lambda: _logged(capture, call, 1, msgs))
    assert native, "no callback fired"
    if extra:  # the upstream's tool-call id is part of what is compared
        assert "call_mock_0" in str(native)
    assert ours == native


def test_async_callback_payloads_equal(litellm, mock, capture):
    msgs = _marked("async")
    kw = {**kwargs(mock), "messages": msgs}

    async def call():
        await litellm.acompletion(model=MODEL, **kw)
        await asyncio.sleep(0.5)  # LiteLLM's async callbacks run on this loop

    native, ours = both(lambda: _logged(capture, lambda: asyncio.run(call()), 1, msgs))
    assert native
    assert ours == native


def test_stream_callback_payloads_equal(litellm, mock, capture):
    msgs = _marked("stream")
    kw = {**kwargs(mock, None, stream_options={"include_usage": True}), "messages": msgs}
    native, ours = both(
        lambda: _logged(capture, lambda: list(litellm.completion(model=MODEL, stream=True, **kw)), 1, msgs)
    )
    assert native
    assert ours == native


# ---- Router -----------------------------------------------------------------------------


def _router_run(litellm, mock, bad_scenario: str, timeout: float | None = None) -> list[Any]:
    """Three calls through a Router whose first-priority deployment fails: which deployment
    answered, the exception if any, and the upstream paths in order."""
    mock.reset()
    good = {"model": MODEL, "api_base": mock.base_url(), "api_key": KEY, "order": 2}
    bad = {"model": MODEL, "api_base": mock.base_url(bad_scenario), "api_key": KEY, "order": 1, "max_retries": 0}
    if timeout is not None:
        bad["timeout"] = timeout
    router = litellm.Router(
        model_list=[
            {"model_name": "m", "litellm_params": bad, "model_info": {"id": "bad"}},
            {"model_name": "m", "litellm_params": good, "model_info": {"id": "good"}},
        ],
        num_retries=1,
        retry_after=0,
        allowed_fails=0,
        cooldown_time=30,
    )
    out: list[Any] = []

    async def calls():
        for _ in range(3):
            try:
                r = await router.acompletion(model="m", messages=MSGS)
                out.append(("ok", r._hidden_params.get("model_id"), r.choices[0].message.content))
            except Exception as e:  # noqa: BLE001
                out.append(("error", type(e).__name__))

    asyncio.run(calls())
    out.append([r["path"].split("/v1")[0] for r in mock.requests()])
    return out


@pytest.mark.parametrize(
    ("bad", "timeout"), [("status=429", None), ("status=500", None), ("delay=2", 0.3)], ids=["429", "500", "timeout"]
)
def test_router_choices_equal(litellm, mock, bad, timeout):
    native = _router_run(litellm, mock, bad, timeout)
    before = edgequake_litellm.status()["served_by_rust"]
    with patched():
        ours = _router_run(litellm, mock, bad, timeout)
    assert edgequake_litellm.status()["served_by_rust"] > before
    assert ours == native
    assert any(o[0] == "ok" and o[1] == "good" for o in native[:3])


# ---- fallback to LiteLLM's own code -----------------------------------------------------


def test_caller_client_falls_back(litellm, mock):
    import openai

    client = openai.OpenAI(api_key=KEY, base_url=mock.base_url())
    with patched():
        before = route_counts()
        r = litellm.completion(model=MODEL, messages=MSGS, client=client)
        assert count_delta(before, route_counts()) == {("openai.chat", "caller-client"): 1}
    assert r.choices[0].message.content
    assert mock.requests()[-1]["headers"]["user-agent"].startswith("OpenAI/")


def test_phased_timeout_falls_back(litellm, mock):
    import httpx

    with patched():
        before = route_counts()
        litellm.completion(**kwargs(mock), model=MODEL, timeout=httpx.Timeout(10.0, connect=2.0))
        assert count_delta(before, route_counts()) == {("openai.chat", "phased-timeout"): 1}


def test_per_call_ssl_verify_falls_back(litellm, mock):
    with patched():
        before = route_counts()
        litellm.completion(**kwargs(mock), model="mistral/mistral-small-latest", ssl_verify=False)
        assert count_delta(before, route_counts()) == {("http.chat", "per-call ssl_verify"): 1}


def test_client_certificate_falls_back(litellm, mock, monkeypatch):
    monkeypatch.setattr(litellm, "ssl_certificate", "/nonexistent/client.pem")
    with patched():
        before = route_counts()
        litellm.completion(**kwargs(mock), model=MODEL)
        assert count_delta(before, route_counts()) == {("openai.chat", "tls-client-certificate"): 1}


def test_extra_query_travels_as_litellm_sends_it(litellm, mock):
    """LiteLLM folds an ``extra_query`` argument into the body; patched, the same body goes out."""
    bodies = []

    def call():
        litellm.completion(**kwargs(mock), model=MODEL, extra_query={"x": "1"})
        bodies.append((mock.requests()[-1]["path"], mock.requests()[-1]["body"]))

    both(call)
    assert bodies[0] == bodies[1]


def test_status_reports_served_calls(litellm, mock):
    with patched():
        before = route_counts()
        litellm.completion(**kwargs(mock), model=MODEL)
        litellm.embedding(model="openai/text-embedding-3-small", input=["a"], api_key=KEY, api_base=mock.base_url())
        assert count_delta(before, route_counts()) == {("openai.chat", None): 1, ("openai.embedding", None): 1}
        st = edgequake_litellm.status()
        assert st["patched"] and not st["refused"]
        assert "litellm.main.openai_chat_completions.completion" in st["patch_points"]
        rows = [c for c in st["calls"] if c["route"] == "openai.chat" and c["served_by"] == "rust"]
        assert "openai" in {c["provider"] for c in rows} and all(c["reason"] is None for c in rows)


# ---- install / uninstall ----------------------------------------------------------------


def test_install_is_idempotent_and_thread_safe(litellm):
    from litellm.llms.openai.openai import OpenAIChatCompletion

    inst = litellm.main.openai_chat_completions
    threads = [threading.Thread(target=edgequake_litellm.install, kwargs={"patch": True}) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        routed = vars(inst)["completion"]
        # One layer only: the saved original is LiteLLM's own bound method.
        assert routed.__wrapped__.__func__ is OpenAIChatCompletion.completion
        edgequake_litellm.install(patch=True)
        assert vars(inst)["completion"] is routed
    finally:
        _patch.uninstall()


def test_uninstall_restores_exact_originals(litellm):
    names = ("openai_chat_completions", "base_llm_http_handler", "anthropic_chat_completions", "vertex_chat_completion")
    owners = [getattr(litellm.main, n) for n in names]
    before = [dict(vars(o)) for o in owners]
    types = [type(o) for o in owners]
    edgequake_litellm.install(patch=True)
    assert all("completion" in vars(o) for o in owners)
    assert [type(o) for o in owners] == types
    edgequake_litellm.uninstall()
    try:
        assert [dict(vars(o)) for o in owners] == before
        for o, t in zip(owners, types):
            assert o.completion.__func__ is t.completion
        assert not _patch.is_patched()
    finally:
        edgequake_litellm.install()  # the session's edgequake provider


def test_uninstalled_calls_are_not_served(litellm, mock):
    before = edgequake_litellm.status()["served_by_rust"]
    litellm.completion(**kwargs(mock), model=MODEL)
    assert edgequake_litellm.status()["served_by_rust"] == before
    assert mock.requests()[-1]["headers"]["user-agent"].startswith("OpenAI/")


# ---- LiteLLM features above the provider call -------------------------------------------


def test_num_retries_equal(litellm, mock):
    scenario = "status=500,fail_times=2"
    counts = []

    def call():
        mock.reset()
        r = litellm.completion(**kwargs(mock, scenario), model=MODEL, max_retries=0, num_retries=3)
        counts.append(len(mock.requests()))
        return r.choices[0].message.content

    native, ours = both(call, expect_rust=None)
    assert counts == [3, 3] and ours == native


# LiteLLM's own, with or without the plugin: a sync call with `fallbacks` runs in a private loop
# (`asyncify.run_async_function`) that is closed as soon as the call returns; the logging worker
# task the call's success logging created in the loop's last iteration never starts, and LiteLLM
# drops it (`LoggingWorker._ensure_queue`) when the next loop uses the worker. Nothing is lost (the
# queued logging moves to the new loop). The test lets that drop happen here, not in a later test.
@pytest.mark.filterwarnings("ignore:coroutine 'LoggingWorker._worker_loop' was never awaited:RuntimeWarning")
def test_context_window_fallback_equal(litellm, mock):
    """A context-window error moves to the fallback deployment, patched as unpatched."""
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    fallback = {"model": MODEL, "api_base": mock.base_url(), "api_key": KEY}

    def call():
        mock.reset()
        r = litellm.completion(**kwargs(mock, "error=context_length"), model=MODEL, max_retries=0, fallbacks=[fallback])
        return r.choices[0].message.content, [q["path"] for q in mock.requests()]

    native, ours = both(call, expect_rust=2)
    assert native[1] == ["/s/error=context_length/v1/chat/completions", "/v1/chat/completions"]
    assert ours == native

    async def rebind_worker() -> None:
        GLOBAL_LOGGING_WORKER.start()

    asyncio.run(rebind_worker())


def test_cache_hits_equal(litellm, mock):
    from litellm.caching.caching import Cache

    def call():
        mock.reset()
        litellm.cache = Cache(type="local")
        try:
            kw = kwargs(mock, None, caching=True, temperature=0.4)
            first = litellm.completion(**kw, model=MODEL)
            second = litellm.completion(**kw, model=MODEL)
        finally:
            litellm.cache = None
        return (
            first.choices[0].message.content,
            second.choices[0].message.content,
            second._hidden_params.get("cache_hit"),
            len(mock.requests()),
        )

    native, ours = both(call)
    assert native[2] is True and native[3] == 1
    assert ours == native
