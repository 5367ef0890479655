"""Test doubles a LiteLLM user puts below LiteLLM are honoured in transparent mode exactly as
natively: respx, pytest-httpx and ``unittest.mock`` on the OpenAI SDK tier and the generic
HTTP tier, sync, async, streaming and embeddings. Each scenario runs with the plugin off and
on: the same mocked answer must reach the caller, ``status()`` must name the double, and once
the double is gone the core serves again.

No request may leave the machine: respx asserts that everything it sees is mocked, the
pytest-httpx fixture answers every httpx request, and the ``unittest.mock`` scenarios point at
a closed port on 127.0.0.1 so a bypassed double fails fast instead of reaching a network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any
from unittest import mock as um

import httpx
import pytest
import respx

import edgequake_litellm
from edgequake_litellm import _doubles, _patch

from .conftest import KEY
from .test_patch import count_delta, patched, route_counts

MSGS = [{"role": "user", "content": "hi"}]
OPENAI = "https://api.openai.com/v1"
MISTRAL = "https://api.mistral.ai/v1"
VLLM = "https://vllm.invalid/v1"
# A closed local port: a call the double does not catch fails here at once.
CLOSED = "http://127.0.0.1:9/v1"

CHAT = {
    "id": "chatcmpl-double",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "from the double"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
}
EMBEDDING = {
    "object": "list",
    "model": "text-embedding-3-small",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 0.75]}],
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


def _sse() -> str:
    def chunk(delta: dict, finish: str | None) -> str:
        body = {
            "id": "chatcmpl-double",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n"

    parts = [chunk({"role": "assistant", "content": "from "}, None), chunk({"content": "the double"}, None)]
    return "".join(parts) + chunk({}, "stop") + "data: [DONE]\n\n"


# (name, model, base, path, kind)
SDK, GENERIC = "openai/gpt-4o-mini", "mistral/mistral-small-latest"
CASES = [
    ("sdk-chat", SDK, OPENAI, "chat"),
    ("sdk-stream", SDK, OPENAI, "stream"),
    ("sdk-embedding", "openai/text-embedding-3-small", OPENAI, "embedding"),
    ("generic-chat", GENERIC, MISTRAL, "chat"),
    ("generic-stream", GENERIC, MISTRAL, "stream"),
    ("generic-embedding", "hosted_vllm/e5", VLLM, "embedding"),
]
ROUTES = {
    ("sdk", "chat"): "openai.chat",
    ("sdk", "stream"): "openai.chat",
    ("sdk", "embedding"): "openai.embedding",
    ("generic", "chat"): "http.chat",
    ("generic", "stream"): "http.chat",
    ("generic", "embedding"): "http.embedding",
}


def _path(kind: str) -> str:
    return "/embeddings" if kind == "embedding" else "/chat/completions"


def _reply(kind: str) -> httpx.Response:
    if kind == "stream":
        return httpx.Response(200, text=_sse(), headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json=EMBEDDING if kind == "embedding" else CHAT)


def _call(litellm: Any, model: str, base: str, kind: str, *, is_async: bool) -> Any:
    """One call as a user's code makes it; the outcome is what reached the caller."""
    common = {"model": model, "api_key": KEY, "api_base": base, "max_retries": 0}

    async def acall() -> Any:
        if kind == "embedding":
            return _embedding_outcome(await litellm.aembedding(input=["a"], **common))
        r = await litellm.acompletion(messages=MSGS, stream=kind == "stream", **common)
        if kind == "stream":
            return "".join([c.choices[0].delta.content or "" async for c in r])
        return _chat_outcome(r)

    try:
        if is_async:
            return asyncio.run(acall())
        if kind == "embedding":
            return _embedding_outcome(litellm.embedding(input=["a"], **common))
        r = litellm.completion(messages=MSGS, stream=kind == "stream", **common)
        if kind == "stream":
            return "".join(c.choices[0].delta.content or "" for c in r)
        return _chat_outcome(r)
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        return ("error", type(e).__name__, str(e)[:200])


def _chat_outcome(r: Any) -> tuple:
    return (r.choices[0].message.content, r.choices[0].finish_reason, r.usage.total_tokens)


def _embedding_outcome(r: Any) -> tuple:
    return (r.data[0]["embedding"], r.usage.total_tokens)


@pytest.fixture()
def httpx_async(litellm, monkeypatch) -> Iterator[None]:
    """LiteLLM's async calls through httpx's own transport (not aiohttp), as a user testing
    async code with respx or pytest-httpx configures it; fresh clients either side."""
    monkeypatch.setattr(litellm, "disable_aiohttp_transport", True)
    litellm.in_memory_llm_clients_cache.flush_cache()
    yield
    litellm.in_memory_llm_clients_cache.flush_cache()


def _both(run: Callable[[], Any], double: Callable[[], Any] | None = None) -> tuple[Any, Any, dict]:
    """``run()`` natively, then with the plugin on, each with ``double()`` (a context manager)
    in place if given: put in place after ``install()``, as a test fixture or decorator does.
    Returns both outcomes and the patched run's status() counts."""
    with double() if double else nullcontext():
        native = run()
    with patched():
        before = route_counts()
        with double() if double else nullcontext():
            ours = run()
        delta = count_delta(before, route_counts())
    return native, ours, delta


def _served_again(litellm, route: str, run: Callable[[], Any]) -> None:
    """With the double gone, the core serves the same route again."""
    with patched():
        before = route_counts()
        run()
        assert count_delta(before, route_counts()) == {(route, None): 1}, edgequake_litellm.status()["calls"]


# ---- respx --------------------------------------------------------------------------------


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(("name", "model", "base", "kind"), CASES, ids=[c[0] for c in CASES])
def test_respx_is_honoured(litellm, mock, httpx_async, name, model, base, kind, is_async):
    tier = name.split("-")[0]
    route_name = ROUTES[(tier, kind)]
    with respx.mock(assert_all_mocked=True, assert_all_called=True) as router:
        route = router.post(base + _path(kind)).mock(side_effect=lambda request: _reply(kind))
        native, ours, delta = _both(lambda: _call(litellm, model, base, kind, is_async=is_async))
        assert route.call_count == 2
    assert not isinstance(native, tuple) or native[0] != "error", native
    assert ours == native
    assert delta == {(route_name, "test-double: httpcore transport patched (respx)"): 1}
    # The double is gone: the core serves the same call again (against the mock upstream).
    _served_again(litellm, route_name, lambda: _call(litellm, model, mock.base_url(), kind, is_async=is_async))


def test_respx_httpx_mocker_is_honoured(litellm, httpx_async):
    with respx.mock(using="httpx", assert_all_mocked=True) as router:
        route = router.post(OPENAI + "/chat/completions").mock(return_value=httpx.Response(200, json=CHAT))
        native, ours, delta = _both(lambda: _call(litellm, SDK, OPENAI, "chat", is_async=False))
        assert route.call_count == 2
    assert ours == native == ("from the double", "stop", 6)
    assert delta == {("openai.chat", "test-double: httpx client patched (respx using='httpx')"): 1}


# ---- pytest-httpx -------------------------------------------------------------------------


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(("name", "model", "base", "kind"), CASES, ids=[c[0] for c in CASES])
def test_pytest_httpx_is_honoured(litellm, httpx_mock, httpx_async, name, model, base, kind, is_async):
    tier = name.split("-")[0]
    reply = _reply(kind)
    httpx_mock.add_response(
        method="POST",
        url=base + _path(kind),
        status_code=reply.status_code,
        headers=dict(reply.headers),
        content=reply.content,
        is_reusable=True,
    )
    native, ours, delta = _both(lambda: _call(litellm, model, base, kind, is_async=is_async))
    assert len(httpx_mock.get_requests()) == 2
    assert not isinstance(native, tuple) or native[0] != "error", native
    assert ours == native
    assert delta == {(ROUTES[(tier, kind)], "test-double: httpx transport patched (pytest-httpx)"): 1}


# ---- unittest.mock on LiteLLM's handler ----------------------------------------------------


class _SdkReply:
    def __init__(self, body: dict) -> None:
        self._body = body
        self.headers: dict[str, str] = {}

    def model_dump(self, **_: Any) -> dict:
        return self._body

    def parse(self) -> _SdkReply:
        return self


def _openai_handler_targets(litellm) -> list[tuple[str, Any]]:
    from litellm.llms.openai.openai import OpenAIChatCompletion

    return [("class", OpenAIChatCompletion), ("instance", litellm.main.openai_chat_completions)]


@pytest.mark.parametrize("where", ["class", "instance"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_patched_sdk_request_method_is_honoured(litellm, mock, where, is_async):
    """``patch.object(OpenAIChatCompletion, "make_*_openai_chat_completion_request")`` (and on
    the instance in ``litellm.main``), as LiteLLM's own tests patch it."""
    owner = dict(_openai_handler_targets(litellm))[where]
    name = "make_openai_chat_completion_request" if is_async else "make_sync_openai_chat_completion_request"
    answer = ({}, _SdkReply(CHAT))
    fake = mock_async(answer) if is_async else um.MagicMock(return_value=answer)
    native, ours, delta = _both(
        lambda: _call(litellm, SDK, CLOSED, "chat", is_async=is_async), lambda: um.patch.object(owner, name, fake)
    )
    assert fake.call_count == 2
    assert ours == native == ("from the double", "stop", 6)
    (key, n), *rest = delta.items()
    assert not rest and n == 1 and key[0] == "openai.chat", delta
    if where == "class":
        assert key[1] == f"test-double: OpenAIChatCompletion.{name} patched"
    else:
        assert key[1] == f"test-double: OpenAIChatCompletion instance attribute {name} patched"
    _served_again(litellm, "openai.chat", lambda: _call(litellm, SDK, mock.base_url(), "chat", is_async=is_async))


def mock_async(value: Any) -> um.AsyncMock:
    return um.AsyncMock(return_value=value)


def test_retries_see_each_attempt_as_natively(litellm):
    """LiteLLM's own ``test_retrying`` shape: the patched async request method raises, and
    the double sees the same attempts with the plugin on as natively."""
    import openai
    from litellm.llms.openai.openai import OpenAIChatCompletion

    def failing() -> um.AsyncMock:
        err = openai.APIConnectionError(request=httpx.Request("POST", CLOSED + "/chat/completions"))
        return um.AsyncMock(side_effect=err)

    fakes = [failing(), failing()]
    outcomes = []
    for fake, mode in zip(fakes, (nullcontext, patched)):
        with mode(), um.patch.object(OpenAIChatCompletion, "make_openai_chat_completion_request", fake):
            outcomes.append((_call_retrying(litellm), fake.call_count))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] >= 1, outcomes


def _call_retrying(litellm) -> str:
    try:
        asyncio.run(
            litellm.acompletion(model=SDK, messages=MSGS, api_key=KEY, api_base=CLOSED, max_retries=0, num_retries=2)
        )
    except Exception as e:  # noqa: BLE001
        return type(e).__name__
    return "ok"


def test_patched_http_handler_completion_is_honoured(litellm, mock):
    """A double of the generic handler's method on its class: the router on the instance must
    not shadow it."""
    from litellm.llms.custom_httpx.llm_http_handler import BaseLLMHTTPHandler

    fake = um.MagicMock(side_effect=RuntimeError("from the double"))
    native, ours, delta = _both(
        lambda: _call(litellm, GENERIC, CLOSED, "chat", is_async=False),
        lambda: um.patch.object(BaseLLMHTTPHandler, "completion", fake),
    )
    assert fake.call_count == 2
    assert ours == native and "from the double" in native[2], native
    assert delta == {("http.chat", "test-double: BaseLLMHTTPHandler.completion patched"): 1}


# ---- patched client factories ------------------------------------------------------------


def _mock_handler(is_async: bool, seen: list) -> Any:
    from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler, HTTPHandler

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=CHAT)

    transport = httpx.MockTransport(answer)
    if is_async:
        return AsyncHTTPHandler(transport=transport)
    return HTTPHandler(client=httpx.Client(transport=transport))


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_patched_client_factory_is_honoured(litellm, mock, is_async):
    """``get_httpx_client``/``get_async_httpx_client`` patched where the generic handler looks
    them up: natively the double's client sends; the plugin must not hand in its own."""
    where = "litellm.llms.custom_httpx.llm_http_handler"
    name = "get_async_httpx_client" if is_async else "get_httpx_client"
    seen: list[str] = []
    native, ours, delta = _both(
        lambda: _call(litellm, GENERIC, CLOSED, "chat", is_async=is_async),
        lambda: um.patch(f"{where}.{name}", return_value=_mock_handler(is_async, seen)),
    )
    assert seen == [CLOSED + "/chat/completions"] * 2
    assert ours == native == ("from the double", "stop", 6)
    assert delta == {("http.chat", f"test-double: {where}.{name} patched"): 1}


def test_patched_sdk_http_client_factory_is_honoured(litellm, mock):
    """The OpenAI SDK's httpx client from a patched LiteLLM factory: its transport answers."""
    from litellm.llms.openai.openai import OpenAIChatCompletion

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=CHAT)

    litellm.in_memory_llm_clients_cache.flush_cache()
    try:
        native, ours, delta = _both(
            lambda: _call(litellm, SDK, CLOSED, "chat", is_async=False),
            lambda: um.patch.object(
                OpenAIChatCompletion,
                "_get_sync_http_client",
                lambda: httpx.Client(transport=httpx.MockTransport(answer)),
            ),
        )
    finally:
        litellm.in_memory_llm_clients_cache.flush_cache()
    assert ours == native == ("from the double", "stop", 6)
    assert len(seen) == 2
    assert delta == {("openai.chat", "test-double: OpenAIChatCompletion._get_sync_http_client patched"): 1}


def test_aiohttp_transport_double_is_honoured(litellm, mock):
    """LiteLLM's native async calls send through its aiohttp transport: a double there sees
    them with the plugin on too."""
    from litellm.llms.custom_httpx.aiohttp_transport import LiteLLMAiohttpTransport

    seen: list[str] = []

    async def answer(self: Any, request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=CHAT)

    litellm.in_memory_llm_clients_cache.flush_cache()
    try:
        native, ours, delta = _both(
            lambda: _call(litellm, GENERIC, CLOSED, "chat", is_async=True),
            lambda: um.patch.object(LiteLLMAiohttpTransport, "handle_async_request", answer),
        )
    finally:
        litellm.in_memory_llm_clients_cache.flush_cache()
    assert ours == native == ("from the double", "stop", 6)
    assert seen == [CLOSED + "/chat/completions"] * 2
    assert delta == {("http.chat", "test-double: aiohttp transport patched"): 1}


# ---- client_session, and a double in place before install() --------------------------------


def test_client_session_with_mock_transport_is_honoured(litellm, monkeypatch):
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=CHAT)

    monkeypatch.setattr(litellm, "client_session", httpx.Client(transport=httpx.MockTransport(answer)))
    native, ours, delta = _both(lambda: _call(litellm, SDK, CLOSED, "chat", is_async=False))
    assert ours == native == ("from the double", "stop", 6)
    assert len(seen) == 2
    assert delta == {("openai.chat", "litellm.client_session"): 1}


def test_double_started_before_install_is_detected_and_forgotten(litellm, mock, httpx_async):
    with respx.mock(assert_all_mocked=True) as router:
        route = router.post(OPENAI + "/chat/completions").mock(return_value=httpx.Response(200, json=CHAT))
        with patched():
            before = route_counts()
            ours = _call(litellm, SDK, OPENAI, "chat", is_async=False)
            assert count_delta(before, route_counts()) == {
                ("openai.chat", "test-double: httpcore transport patched (respx)"): 1
            }
            assert ours == ("from the double", "stop", 6) and route.call_count == 1
    # Installed while the double was in place, the plugin adopts the library's own code back.
    with patched():
        before = route_counts()
        _call(litellm, SDK, mock.base_url(), "chat", is_async=False)
        assert count_delta(before, route_counts()) == {("openai.chat", None): 1}


# ---- the check itself --------------------------------------------------------------------


def test_nothing_patched_means_no_reason(litellm):
    with patched():
        for owner, _, _, _ in _patch._saved.values():
            assert _doubles.active(owner) is None


def test_snapshot_covers_every_routed_method(litellm):
    """Each method the router shadows on an instance is checked on its class too."""
    with patched():
        routed = {(type(owner).__name__, method) for owner, method, _, _ in _patch._saved.values()}
    checked = {(cls, name) for _, cls, name, _ in _doubles._ENTRY_POINTS}
    assert routed <= checked, routed - checked


# ---- what status() counts as served --------------------------------------------------------


def test_call_failed_before_sending_is_not_served(litellm, mock, monkeypatch):
    """LiteLLM's own handler fails the call before any request goes out (here: the OpenAI SDK
    client refuses to be built without a key): routed to the core, but not counted as served."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    def call() -> str:
        try:
            litellm.completion(model=SDK, messages=MSGS, api_base=mock.base_url(), max_retries=0)
        except Exception as e:  # noqa: BLE001
            return type(e).__name__
        return "ok"

    n = len(mock.requests())
    native, ours, delta = _both(call)
    assert ours == native == "InternalServerError"
    assert len(mock.requests()) == n
    assert delta == {}
    # The same call with a key is sent, and counted once.
    with patched():
        before = edgequake_litellm.status()["served_by_rust"]
        litellm.completion(model=SDK, messages=MSGS, api_base=mock.base_url(), api_key=KEY)
        assert edgequake_litellm.status()["served_by_rust"] == before + 1
    assert len(mock.requests()) == n + 1


def test_patch_points_say_what_vertex_chat_completion_serves(litellm):
    with patched():
        points = edgequake_litellm.status()["patch_points"]
    vertex = [p for p in points if "vertex_chat_completion" in p]
    assert vertex == ["litellm.main.vertex_chat_completion.completion (gemini/ and vertex_ai/ Gemini models)"]


def test_patched_openai_sdk_is_honoured(litellm):
    """A double of the OpenAI SDK client's ``post``, which LiteLLM sends with and the SDK tier
    does not call."""
    import openai

    err = openai.APIConnectionError(request=httpx.Request("POST", CLOSED + "/chat/completions"))
    fake = um.MagicMock(side_effect=err)
    # LiteLLM caches SDK clients, whose raw-response wrapper binds ``create`` once: fresh ones.
    litellm.in_memory_llm_clients_cache.flush_cache()
    try:
        native, ours, delta = _both(
            lambda: (
                litellm.in_memory_llm_clients_cache.flush_cache(),
                _call(litellm, SDK, CLOSED, "chat", is_async=False),
            )[1],
            lambda: um.patch.object(openai.OpenAI, "post", fake),
        )
    finally:
        litellm.in_memory_llm_clients_cache.flush_cache()
    assert fake.call_count == 2
    assert ours == native and native[0] == "error", native
    assert delta == {("openai.chat", "test-double: OpenAI.post patched"): 1}


def test_cached_sdk_client_with_mock_transport_is_honoured(litellm):
    """A patched factory is gone, but LiteLLM cached the SDK client it built (with a
    ``MockTransport``) and keeps using it: so must the plugin."""
    from litellm.llms.openai.openai import OpenAIChatCompletion

    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=CHAT)

    litellm.in_memory_llm_clients_cache.flush_cache()
    try:
        factory = lambda: httpx.Client(transport=httpx.MockTransport(answer))  # noqa: E731
        with um.patch.object(OpenAIChatCompletion, "_get_sync_http_client", factory):
            _call(litellm, SDK, CLOSED, "chat", is_async=False)  # builds and caches the SDK client
        native, ours, delta = _both(lambda: _call(litellm, SDK, CLOSED, "chat", is_async=False))
    finally:
        litellm.in_memory_llm_clients_cache.flush_cache()
    assert ours == native == ("from the double", "stop", 6)
    assert len(seen) == 3
    assert delta == {("openai.chat", "test-double: OpenAI SDK client transport MockTransport"): 1}
