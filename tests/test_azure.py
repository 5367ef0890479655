"""Azure OpenAI, differentially: LiteLLM's own ``azure/<deployment>`` and
``edgequake/azure/<deployment>`` against the mock's Azure routes
(``/openai/deployments/<deployment>/...?api-version=``), and transparent mode, whose Azure
requests the core sends exactly as the AzureOpenAI SDK client would (``_patch_azure.py``).

What the upstream received (path, query, ``api-key``/``authorization``, body) and what the
caller got (response dump, stream deltas, embeddings, exception class/status/message) must
be equal; unpatched and patched, every request must be the same bytes (method, URL with query,
headers in order, body; ``_wire``). The cases the ``edgequake/`` route refuses (AD tokens,
``api_version`` v1/latest/preview, a base naming a deployment) are refused there with LiteLLM's
``BadRequestError`` before anything is sent, and served by transparent mode; models LiteLLM
sends to the Responses API run LiteLLM's own code in transparent mode."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

import edgequake_litellm

from .conftest import KEY
from .routes import error_view, stable_dump
from .test_differential import MSGS, TOOLS, _built_view, assert_same_chunks
from .test_patch import both

VERSION = "2024-10-21"
DEPLOYMENT = "my-deployment"
AZURE_ENV = (
    "AZURE_API_BASE",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_API_VERSION",
    "AZURE_AD_TOKEN",
    "AZURE_OPENAI_AD_TOKEN",
)


@pytest.fixture(autouse=True)
def _clean_azure_env(monkeypatch, litellm):
    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)
    for attr in ("api_key", "azure_key", "api_base", "api_version"):
        monkeypatch.setattr(litellm, attr, None)


def _base(mock, scenario: str | None = None) -> str:
    return mock.url if scenario is None else f"{mock.url}/s/{scenario}"


def _kw(mock, scenario: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"messages": MSGS, "api_key": KEY, "api_base": _base(mock, scenario), "api_version": VERSION, **extra}


def _sent(req: dict) -> dict:
    """What the upstream received that the call decides."""
    headers = {k: v for k, v in req["headers"].items() if k in ("api-key", "authorization", "x-custom-header")}
    return {
        "method": req["method"],
        "path": req["path"],
        "query": req["query"],
        "headers": headers,
        "body": req["body"],
    }


def _exchange(mock, fn: Callable[[], Any]) -> tuple[Any, list[dict]]:
    """``fn()``'s result or exception, and what the upstream received."""
    mock.reset()
    try:
        out: Any = fn()
    except Exception as e:  # noqa: BLE001 - the exception is the outcome compared
        out = e
    return out, [_sent(r) for r in mock.requests()]


def _served() -> int:
    return int(edgequake_litellm.status()["served_by_rust"])


# What differs on the wire by design (docs/providers.md, known differences): where `Host`
# goes, and the codings asked for.
_WIRE_VOLATILE = {"host", "accept-encoding"}


def _wire(req: dict) -> tuple:
    """Everything the upstream received: method, path, query, headers in order, body bytes."""
    headers = [(k, v) for k, v in req["headers"].items() if k.lower() not in _WIRE_VOLATILE]
    return (req["method"], req["path"], req["query"], headers, req["raw_body"])


def _native_and_transparent(
    mock, fn: Callable[[], Any], expect_rust: int | None = 1
) -> tuple[tuple[Any, list], tuple[Any, list]]:
    """``fn()`` unpatched and patched (served by the core ``expect_rust`` times): the very same
    requests must reach the upstream, byte for byte."""
    wires = []

    def run() -> tuple[Any, list]:
        out = _exchange(mock, fn)
        wires.append([_wire(r) for r in mock.requests()])
        return out

    native, transparent = both(run, expect_rust=expect_rust)
    assert wires[1] == wires[0]
    return native, transparent


def _three(
    mock, call: Callable[[str], Any], expect_rust: int | None = 1
) -> tuple[tuple[Any, list], tuple[Any, list], tuple[Any, list]]:
    native, transparent = _native_and_transparent(mock, lambda: call(f"azure/{DEPLOYMENT}"), expect_rust)
    ours = _exchange(mock, lambda: call(f"edgequake/azure/{DEPLOYMENT}"))
    return native, ours, transparent


def _dump(resp: Any) -> dict:
    d = resp.model_dump()
    d.pop("created", None)
    return d


# ---- chat -------------------------------------------------------------------------------

CHAT_CASES = [
    ("plain", {}),
    ("tools", {"tools": TOOLS, "tool_choice": "auto"}),
    ("logprobs", {"logprobs": True, "top_logprobs": 2}),
    ("n2", {"n": 2, "temperature": 0.3, "max_tokens": 20}),
    ("headers", {"extra_headers": {"x-custom-header": "yes"}}),
]


@pytest.mark.parametrize(("name", "extra"), CHAT_CASES, ids=[c[0] for c in CHAT_CASES])
def test_chat_equal(litellm, mock, name, extra):
    native, ours, transparent = _three(mock, lambda m: litellm.completion(model=m, **_kw(mock, **extra)))
    assert native[1][0]["path"] == f"/openai/deployments/{DEPLOYMENT}/chat/completions"
    assert native[1][0]["query"] == {"api-version": VERSION}
    assert ours[1] == native[1] == transparent[1]
    assert _dump(ours[0]) == _dump(native[0]) == _dump(transparent[0])
    assert ours[0]._hidden_params["response_cost"] == pytest.approx(native[0]._hidden_params["response_cost"])


def test_async_chat_equal(litellm, mock):
    def call(m: str) -> Any:
        return asyncio.run(litellm.acompletion(model=m, **_kw(mock, tools=TOOLS)))

    native, ours, transparent = _three(mock, call)
    assert ours[1] == native[1] == transparent[1]
    assert _dump(ours[0]) == _dump(native[0]) == _dump(transparent[0])


@pytest.mark.parametrize(
    "extra",
    [{}, {"stream_options": {"include_usage": True}, "tools": TOOLS}, {"logprobs": True, "n": 2}],
    ids=["plain", "usage_tools", "logprobs_n2"],
)
def test_stream_equal(litellm, mock, extra):
    native, ours, transparent = _three(
        mock, lambda m: list(litellm.completion(model=m, stream=True, **_kw(mock, **extra)))
    )
    assert ours[1] == native[1] == transparent[1]
    assert [stable_dump(c) for c in transparent[0]] == [stable_dump(c) for c in native[0]]
    assert_same_chunks(ours[0], native[0], given_model=None)
    assert _built_view(litellm, ours[0], MSGS) == _built_view(litellm, native[0], MSGS)


def test_async_stream_equal(litellm, mock):
    async def collect(m: str) -> list:
        return [c async for c in await litellm.acompletion(model=m, stream=True, **_kw(mock))]

    native, ours, transparent = _three(mock, lambda m: asyncio.run(collect(m)))
    assert ours[1] == native[1] == transparent[1]
    assert_same_chunks(ours[0], native[0], given_model=None)


# ---- embeddings -------------------------------------------------------------------------


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_embedding_equal(litellm, mock, monkeypatch, is_async):
    """The Azure handler goes through the SDK's ``embeddings.create``: base64 asked for and
    decoded as float32. (The version comes from the environment: see the next test.)"""
    monkeypatch.setenv("AZURE_API_VERSION", VERSION)
    kw = {"input": ["alpha", "beta"], "api_key": KEY, "api_base": _base(mock)}

    def call(m: str) -> Any:
        if is_async:
            return asyncio.run(litellm.aembedding(model=m, **kw))
        return litellm.embedding(model=m, **kw)

    native, ours, transparent = _three(mock, call)
    assert native[1][0]["path"] == f"/openai/deployments/{DEPLOYMENT}/embeddings"
    assert ours[1] == native[1] == transparent[1]
    assert ours[0].model_dump() == native[0].model_dump() == transparent[0].model_dump()


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="LiteLLM 1.110.2 does not hand litellm.embedding's api_version argument to a custom provider "
    "(it is a named parameter, absent from litellm_params): edgequake/azure embeddings use litellm.api_version, "
    "AZURE_API_VERSION or the default (docs/providers.md)",
)
def test_embedding_api_version_argument(litellm, mock):
    kw = {"input": ["a"], "api_key": KEY, "api_base": _base(mock), "api_version": VERSION}
    sent = []
    for model in (f"azure/{DEPLOYMENT}", f"edgequake/azure/{DEPLOYMENT}"):
        litellm.embedding(model=model, **kw)
        sent.append(mock.requests()[-1]["query"])
    assert sent[1] == sent[0] == {"api-version": VERSION}


@pytest.mark.parametrize(
    "encoding_format",
    [
        "float",
        # LiteLLM's native Azure path dumps the SDK's Embedding with the base64 string in a
        # list[float] field, and pydantic warns; ours do not (tests/test_embedding_base64.py).
        pytest.param("base64", marks=pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")),
    ],
)
def test_embedding_explicit_format_equal(litellm, mock, monkeypatch, encoding_format):
    """A format the caller chose is sent and returned as it comes (``extra_body`` on the
    ``edgequake/`` route, where LiteLLM refuses the parameter for custom providers)."""
    monkeypatch.setenv("AZURE_API_VERSION", VERSION)
    kw = {"input": ["alpha"], "api_key": KEY, "api_base": _base(mock)}
    native = _exchange(
        mock, lambda: litellm.embedding(model=f"azure/{DEPLOYMENT}", encoding_format=encoding_format, **kw)
    )
    ours = _exchange(
        mock,
        lambda: litellm.embedding(
            model=f"edgequake/azure/{DEPLOYMENT}", extra_body={"encoding_format": encoding_format}, **kw
        ),
    )
    assert ours[1] == native[1]
    assert ours[0].model_dump() == native[0].model_dump()


# ---- errors -----------------------------------------------------------------------------

ERROR_CASES = [
    ("400", "status=400"),
    ("401", "status=401"),
    ("404", "status=404"),
    ("429", "status=429,retry_after=7"),
    ("500", "status=500"),
    ("503", "status=503"),
    ("context_length", "error=context_length"),
    ("content_filter", "error=content_filter"),
    ("content_filter_message", "error=content_filter,message=Azure%20OpenAI%20content%20management%20policy"),
    ("malformed_json", "malformed_json"),
]


@pytest.mark.parametrize(("name", "scenario"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_error_equal(litellm, mock, name, scenario):
    native, ours, transparent = _three(
        mock, lambda m: litellm.completion(model=m, **_kw(mock, scenario, max_retries=0))
    )
    assert isinstance(native[0], Exception)
    assert error_view(transparent[0]) == error_view(native[0])
    assert type(ours[0]) is type(native[0]), (native[0], ours[0])
    assert getattr(ours[0], "status_code", None) == getattr(native[0], "status_code", None)
    assert getattr(ours[0], "llm_provider", None) == getattr(native[0], "llm_provider", None)
    if name != "malformed_json":  # the text quotes each side's JSON parser
        assert str(ours[0]) == str(native[0])
    if "retry_after" in scenario:
        assert ours[0].response.headers["retry-after"] == native[0].response.headers["retry-after"] == "7"
    assert ours[1] == native[1]
    assert KEY not in str(ours[0]) and KEY not in repr(ours[0])


@pytest.mark.parametrize("scenario", ["status=429", "error=content_filter"])
def test_stream_error_equal(litellm, mock, scenario):
    native, ours, _ = _three(
        mock, lambda m: list(litellm.completion(model=m, stream=True, **_kw(mock, scenario, max_retries=0)))
    )
    assert type(ours[0]) is type(native[0]), (native[0], ours[0])
    assert getattr(ours[0], "status_code", None) == getattr(native[0], "status_code", None)
    assert str(ours[0]) == str(native[0])


def test_embedding_error_equal(litellm, mock):
    kw = {"input": ["a"], "api_key": KEY, "api_base": _base(mock, "status=429"), "api_version": VERSION}
    native, ours, transparent = _three(mock, lambda m: litellm.embedding(model=m, max_retries=0, **kw))
    assert error_view(transparent[0]) == error_view(native[0])
    assert type(ours[0]) is type(native[0]) and ours[0].status_code == native[0].status_code


@pytest.mark.parametrize("scenario", ["malformed_json", "malformed_json,ct=text%2Fplain"], ids=["json", "text"])
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_unreadable_reply_equal(litellm, mock, monkeypatch, scenario, is_async):
    """A reply that is not JSON fails where the SDK's ``parse()`` fails (LiteLLM's async
    embedding wraps it in its own words), or comes back as text when its content type does not
    say JSON."""
    monkeypatch.setenv("AZURE_API_VERSION", VERSION)
    kw = {"api_key": KEY, "api_base": _base(mock, scenario), "max_retries": 0}

    def call(m: str) -> Any:
        if is_async:
            return asyncio.run(litellm.aembedding(model=m, input=["a"], **kw))
        return litellm.embedding(model=m, input=["a"], **kw)

    native, transparent = _native_and_transparent(mock, lambda: call(f"azure/{DEPLOYMENT}"))
    assert isinstance(native[0], Exception)
    # LiteLLM quotes the traceback of an unexpected failure: its frames are not the outcome.
    view = [error_view(e[0])[:2] + (error_view(e[0])[2].split("\nTraceback", 1)[0],) for e in (native, transparent)]
    assert view[1] == view[0]
    chat = _native_and_transparent(
        mock, lambda: litellm.completion(model=f"azure/{DEPLOYMENT}", messages=MSGS, api_version=VERSION, **kw)
    )
    assert error_view(chat[1][0]) == error_view(chat[0][0])


def test_retries_equal(litellm, mock):
    """The AzureOpenAI SDK retries like the OpenAI SDK: 2 retries by default."""
    scenario = "status=503,retry_after=0.01,fail_times=2"
    native, ours, transparent = _three(mock, lambda m: litellm.completion(model=m, **_kw(mock, scenario)))
    assert len(native[1]) == len(ours[1]) == len(transparent[1]) == 3
    assert _dump(ours[0]) == _dump(native[0])


def test_missing_key_equal(litellm, mock):
    kw = {"messages": MSGS, "api_base": _base(mock), "api_version": VERSION, "max_retries": 0}
    # The SDK client refuses to be built: nothing is sent, nothing served.
    native, ours, transparent = _three(mock, lambda m: litellm.completion(model=m, **kw), expect_rust=0)
    assert error_view(ours[0]) == error_view(native[0]) == error_view(transparent[0])
    assert ours[1] == native[1] == []


# ---- api_version: defaults and precedence -----------------------------------------------


def _version_sent(litellm, mock, model: str) -> str | None:
    mock.reset()
    litellm.completion(model=model, messages=MSGS, api_key=KEY, api_base=_base(mock), max_retries=0)
    return mock.requests()[-1]["query"].get("api-version")


# Each level set on top of the ones below it: the highest one must win, natively and ours.
VERSION_LEVELS = [
    ("AZURE_DEFAULT_API_VERSION", None),  # nothing set: LiteLLM's default
    ("litellm.AZURE_DEFAULT_API_VERSION", "2024-06-01"),
    ("AZURE_API_VERSION", "2024-08-01-preview"),
    ("litellm.api_version", "2024-09-01-preview"),
    ("arg", "2024-10-21"),
]


@pytest.mark.parametrize("level", range(len(VERSION_LEVELS)), ids=[v[0] for v in VERSION_LEVELS])
def test_api_version_precedence_equal(litellm, mock, monkeypatch, level):
    extra: dict[str, Any] = {}
    for name, value in VERSION_LEVELS[1 : level + 1]:
        if name == "AZURE_API_VERSION":
            monkeypatch.setenv(name, value)
        elif name == "arg":
            extra["api_version"] = value
        else:
            monkeypatch.setattr(litellm, name.removeprefix("litellm."), value)

    def sent(model: str) -> str | None:
        mock.reset()
        litellm.completion(model=model, messages=MSGS, api_key=KEY, api_base=_base(mock), max_retries=0, **extra)
        return mock.requests()[-1]["query"].get("api-version")

    native = sent(f"azure/{DEPLOYMENT}")
    expected = VERSION_LEVELS[level][1] or litellm.AZURE_DEFAULT_API_VERSION
    assert native == expected
    assert sent(f"edgequake/azure/{DEPLOYMENT}") == native


# ---- refused by the edgequake/ route, served by transparent mode --------------------------

# LiteLLM's handler builds an SDK client for each (an AzureOpenAI client with a token, or an
# OpenAI client for the v1 API); transparent mode sends what that client builds.
EDGEQUAKE_REFUSED = [
    ("azure_ad_token", {"azure_ad_token": "ad-token-123", "api_key": None}),
    ("azure_ad_token_provider", {"azure_ad_token_provider": lambda: "ad-token-456", "api_key": None}),
    ("api_version_v1", {"api_version": "v1"}),
    ("api_version_latest", {"api_version": "latest"}),
    ("api_version_preview", {"api_version": "preview"}),
    ("deployment_base", {"api_base": "{url}/openai/deployments/other-deployment"}),
]


def _refused_kw(mock, extra: dict[str, Any]) -> dict[str, Any]:
    kw = {**_kw(mock, max_retries=0), **extra}
    if isinstance(kw["api_base"], str):
        kw["api_base"] = kw["api_base"].format(url=mock.url)
    return {k: v for k, v in kw.items() if v is not None}


def _refused(ours: tuple[Any, list], native_model: str) -> None:
    import litellm

    err, sent = ours
    assert type(err) is litellm.BadRequestError, err
    assert "is not served by the Rust core" in str(err) and repr(native_model) in str(err)
    assert sent == []  # refused before anything was sent


@pytest.mark.parametrize(("name", "extra"), EDGEQUAKE_REFUSED, ids=[c[0] for c in EDGEQUAKE_REFUSED])
def test_refused_by_edgequake_served_transparently(litellm, mock, name, extra):
    kw = _refused_kw(mock, extra)
    native, ours, transparent = _three(mock, lambda m: litellm.completion(model=m, **kw))
    assert not isinstance(native[0], Exception), native[0]
    assert transparent[1] == native[1]
    assert _dump(transparent[0]) == _dump(native[0])
    _refused(ours, f"azure/{DEPLOYMENT}")


@pytest.mark.parametrize(("name", "extra"), EDGEQUAKE_REFUSED[:3], ids=[c[0] for c in EDGEQUAKE_REFUSED[:3]])
def test_refused_embeddings_served_transparently(litellm, mock, monkeypatch, name, extra):
    kw = {k: v for k, v in _refused_kw(mock, extra).items() if k not in ("messages", "api_version")}
    # litellm.embedding's api_version argument never reaches a custom provider (see above).
    monkeypatch.setenv("AZURE_API_VERSION", extra.get("api_version", VERSION))
    native, ours, transparent = _three(mock, lambda m: litellm.embedding(model=m, input=["a"], **kw))
    assert not isinstance(native[0], Exception), native[0]
    assert transparent[1] == native[1]
    assert transparent[0].model_dump() == native[0].model_dump()
    _refused(ours, f"azure/{DEPLOYMENT}")


def test_env_ad_token_served(litellm, mock, monkeypatch):
    """No key: the AzureOpenAI SDK sends ``AZURE_OPENAI_AD_TOKEN`` as a Bearer token."""
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "ad-token-env")
    kw = {"messages": MSGS, "api_base": _base(mock), "api_version": VERSION, "max_retries": 0}
    native, ours, transparent = _three(mock, lambda m: litellm.completion(model=m, **kw))
    assert native[1][0]["headers"] == {"authorization": "Bearer ad-token-env"}
    assert transparent[1] == native[1]
    _refused(ours, f"azure/{DEPLOYMENT}")


class _Tokens:
    """An ``azure_ad_token_provider``: a fresh token per call, so the upstream shows which call
    each request's token came from."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"ad-token-{self.calls}"


@pytest.mark.parametrize("mode", ["sync", "async", "stream", "async-stream", "embedding", "async-embedding"])
def test_token_provider_called_per_request(litellm, mock, monkeypatch, mode):
    """The caller's Python callable is asked for the token on each request, and the upstream
    sees it as ``Authorization: Bearer <token>``, patched as unpatched."""
    monkeypatch.setenv("AZURE_API_VERSION", VERSION)
    seen = []

    def run() -> Any:
        tokens = _Tokens()
        kw = {"api_base": _base(mock), "azure_ad_token_provider": tokens, "max_retries": 0}
        model = f"azure/{DEPLOYMENT}"
        out = []
        for _ in range(2):
            if mode == "sync":
                out.append(_dump(litellm.completion(model=model, messages=MSGS, **kw)))
            elif mode == "stream":
                out.append([stable_dump(c) for c in litellm.completion(model=model, messages=MSGS, stream=True, **kw)])
            elif mode == "embedding":
                out.append(litellm.embedding(model=model, input=["a"], **kw).model_dump())
            else:

                async def call() -> Any:
                    if mode == "async":
                        return _dump(await litellm.acompletion(model=model, messages=MSGS, **kw))
                    if mode == "async-embedding":
                        return (await litellm.aembedding(model=model, input=["a"], **kw)).model_dump()
                    r = await litellm.acompletion(model=model, messages=MSGS, stream=True, **kw)
                    return [stable_dump(c) async for c in r]

                out.append(asyncio.run(call()))
        seen.append([r["headers"].get("authorization") for r in mock.requests()])
        return out, tokens.calls

    native, transparent = _native_and_transparent(mock, run, expect_rust=2)
    assert seen[0] == seen[1] == ["Bearer ad-token-1", "Bearer ad-token-2"]
    assert transparent == native


class _FailingTokens(_Tokens):
    """``_Tokens`` that raises on call ``fail_on`` (a token service failing during a retry)."""

    def __init__(self, fail_on: int | None) -> None:
        super().__init__()
        self.fail_on = fail_on

    def __call__(self) -> str:
        if self.calls + 1 == self.fail_on:
            self.calls += 1
            raise RuntimeError(f"token service down on call {self.calls}")
        return super().__call__()


class _AsyncTokens(_FailingTokens):
    """An async ``azure_ad_token_provider`` (for ``AsyncAzureOpenAI``) that suspends before
    answering, so the SDK's async preparation really runs on the caller's loop."""

    async def __call__(self) -> str:  # type: ignore[override]
        await asyncio.sleep(0)
        return super().__call__()


RETRY_MODES = ["sync", "async", "stream", "async-stream", "embedding", "async-embedding"]
# (provider kind, mode): an async provider only reaches the async clients.
PROVIDER_MODES = [("sync", m) for m in RETRY_MODES] + [("async", m) for m in RETRY_MODES if m.startswith("async")]


def _provider_call(litellm, mode: str, kw: dict[str, Any]) -> Any:
    model = f"azure/{DEPLOYMENT}"
    if mode == "sync":
        return _dump(litellm.completion(model=model, messages=MSGS, **kw))
    if mode == "stream":
        return [stable_dump(c) for c in litellm.completion(model=model, messages=MSGS, stream=True, **kw)]
    if mode == "embedding":
        return litellm.embedding(model=model, input=["a"], **kw).model_dump()

    async def call() -> Any:
        if mode == "async":
            return _dump(await litellm.acompletion(model=model, messages=MSGS, **kw))
        if mode == "async-embedding":
            return (await litellm.aembedding(model=model, input=["a"], **kw)).model_dump()
        r = await litellm.acompletion(model=model, messages=MSGS, stream=True, **kw)
        return [stable_dump(c) async for c in r]

    return asyncio.run(call())


@pytest.mark.parametrize(("kind", "mode"), PROVIDER_MODES, ids=[f"{k}-provider-{m}" for k, m in PROVIDER_MODES])
@pytest.mark.parametrize(
    "scenario", ["status=429,retry_after=0.01,fail_times=2", "status=503,retry_after=0.01,fail_times=1"]
)
def test_token_provider_asked_per_retry(litellm, mock, monkeypatch, kind, mode, scenario):
    """The SDK prepares every attempt anew, so its token provider is asked again on each retry:
    patched, the core asks Python for each retry's request, and the upstream sees the same
    sequence of tokens (every request byte for byte), the provider called as often."""
    monkeypatch.setenv("AZURE_API_VERSION", VERSION)
    seen = []

    def run() -> Any:
        tokens = (_AsyncTokens if kind == "async" else _FailingTokens)(None)
        kw = {"api_base": _base(mock, scenario), "azure_ad_token_provider": tokens, "max_retries": 2}
        out = _provider_call(litellm, mode, kw)
        seen.append([r["headers"].get("authorization") for r in mock.requests()])
        return out, tokens.calls

    native, transparent = _native_and_transparent(mock, run)
    attempts = int(scenario.split("fail_times=")[1]) + 1
    assert seen[0] == seen[1] == [f"Bearer ad-token-{n}" for n in range(1, attempts + 1)]
    assert transparent == native
    assert native[0][1] == attempts


@pytest.mark.parametrize(("kind", "mode"), PROVIDER_MODES, ids=[f"{k}-provider-{m}" for k, m in PROVIDER_MODES])
def test_token_provider_failing_on_retry_equal(litellm, mock, monkeypatch, kind, mode):
    """A provider that raises when asked for the first retry's token: the same exception as
    unpatched (LiteLLM wraps it), after the same single request."""
    monkeypatch.setenv("AZURE_API_VERSION", VERSION)
    calls = []

    def run() -> Any:
        tokens = (_AsyncTokens if kind == "async" else _FailingTokens)(2)
        kw = {
            "api_base": _base(mock, "status=429,retry_after=0.01,fail_times=2"),
            "azure_ad_token_provider": tokens,
            "max_retries": 2,
        }
        try:
            return _provider_call(litellm, mode, kw)
        finally:
            calls.append(tokens.calls)

    native, transparent = _native_and_transparent(mock, run)
    assert isinstance(native[0], Exception), native[0]
    assert "token service down on call 2" in str(native[0])
    assert _without_frames(transparent[0]) == _without_frames(native[0])
    assert len(native[1]) == len(transparent[1]) == 1
    assert calls == [2, 2]


def test_async_provider_cancelled_during_retry_equal(litellm, mock, monkeypatch):
    """The caller's task cancelled while an async provider is asked for a retry's token: the
    provider's wait is cancelled too, as when the SDK awaits it in the caller's task."""
    monkeypatch.setenv("AZURE_API_VERSION", VERSION)

    def run() -> Any:
        events: list[str] = []

        async def main() -> list[str]:
            entered, cancelled = asyncio.Event(), asyncio.Event()
            tokens = _Tokens()

            async def provider() -> str:
                token = tokens()
                if tokens.calls == 2:
                    entered.set()
                    try:
                        await asyncio.Event().wait()
                    except asyncio.CancelledError:
                        events.append("provider cancelled")
                        cancelled.set()
                        raise
                return token

            kw = {"api_base": _base(mock, "status=429,retry_after=0.01,fail_times=2"), "max_retries": 2}
            call = litellm.acompletion(
                model=f"azure/{DEPLOYMENT}", messages=MSGS, azure_ad_token_provider=provider, **kw
            )
            task = asyncio.ensure_future(call)
            await entered.wait()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                events.append("task cancelled")
            # Patched, the cancellation reaches the provider from the core's side: bounded wait.
            await asyncio.wait_for(cancelled.wait(), 20)
            return sorted(events) + [f"calls={tokens.calls}"]

        return asyncio.run(main())

    native, transparent = _native_and_transparent(mock, run)
    assert native[0] == ["provider cancelled", "task cancelled", "calls=2"]
    assert transparent[0] == native[0]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_replaced_prepare_options_runs_per_attempt(litellm, mock, monkeypatch, is_async):
    """Request-building code that is not the SDK's own (here a wrapper of the client class's
    ``_prepare_options`` numbering its calls in a header) runs for every attempt, as in the
    SDK's loop: the same headers reach the upstream on each retry."""
    import openai

    cls = openai.AsyncAzureOpenAI if is_async else openai.AzureOpenAI
    original = cls._prepare_options
    calls = []

    def stamp(options: Any) -> Any:
        calls.append(1)
        options.headers = {**options.headers, "x-custom-header": f"attempt-{len(calls)}"}
        return options

    if is_async:

        async def wrapper(self: Any, options: Any) -> Any:
            return stamp(await original(self, options))
    else:

        def wrapper(self: Any, options: Any) -> Any:
            return stamp(original(self, options))

    monkeypatch.setattr(cls, "_prepare_options", wrapper)
    kw = _kw(mock, "status=503,retry_after=0.01,fail_times=2", max_retries=2)

    def run() -> Any:
        calls.clear()
        if is_async:
            out = asyncio.run(litellm.acompletion(model=f"azure/{DEPLOYMENT}", **kw))
        else:
            out = litellm.completion(model=f"azure/{DEPLOYMENT}", **kw)
        return _dump(out), len(calls)

    native, transparent = _native_and_transparent(mock, run)
    assert [r["headers"]["x-custom-header"] for r in native[1]] == ["attempt-1", "attempt-2", "attempt-3"]
    assert transparent[0] == native[0]


def _without_frames(e: BaseException) -> tuple:
    """``error_view`` of an exception whose message LiteLLM ends with the traceback of an
    unexpected failure (async embeddings): the frames are not the outcome, its last line is."""
    kind, status, text = error_view(e)
    head, _, frames = text.partition("\nTraceback")
    return kind, status, head, frames.strip().splitlines()[-1:]


# ---- LiteLLM's own paths inside the Azure handler ---------------------------------------------


def test_gpt5_config_path_equal(litellm, mock):
    """GPT-5 deployments are transformed by ``AzureOpenAIGPT5Config`` (``max_tokens`` renamed)."""
    kw = _kw(mock, max_tokens=7, max_retries=0)
    native, transparent = _native_and_transparent(mock, lambda: litellm.completion(model="azure/gpt-5-mini", **kw))
    assert "max_completion_tokens" in native[1][0]["body"]
    assert _dump(transparent[0]) == _dump(native[0])
    assert transparent[0]._hidden_params["response_cost"] == native[0]._hidden_params["response_cost"]


def test_cloudflare_gateway_path_equal(litellm, mock):
    """An ``api_base`` naming Cloudflare's AI gateway gets LiteLLM's gateway client (model in
    the base URL, no deployment path); the mock has no such route: the same 404 both ways."""
    kw = _kw(mock, max_retries=0, api_base=f"{mock.url}/gateway.ai.cloudflare.com/acct/gw/azure-openai/res")
    native, transparent = _native_and_transparent(mock, lambda: litellm.completion(model=f"azure/{DEPLOYMENT}", **kw))
    assert native[1][0]["path"].endswith(f"/res/{DEPLOYMENT}/chat/completions")
    assert error_view(transparent[0]) == error_view(native[0])


def test_output_token_limit_reply_equal(litellm, mock):
    """LiteLLM answers Azure's output-token-limit 400 with a truncated response, not an error."""
    message = "Could not finish the message because max_tokens or model output limit was reached"
    kw = _kw(mock, f"status=400,message={message.replace(' ', '%20')}", max_retries=0)
    for call in (
        lambda: litellm.completion(model=f"azure/{DEPLOYMENT}", **kw),
        lambda: asyncio.run(litellm.acompletion(model=f"azure/{DEPLOYMENT}", **kw)),
    ):
        native, transparent = _native_and_transparent(mock, call)
        assert not isinstance(native[0], Exception), native[0]
        keep = ("choices", "usage", "model", "object")
        assert {k: _dump(transparent[0])[k] for k in keep} == {k: _dump(native[0])[k] for k in keep}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_timeout_equal(litellm, mock, is_async):
    kw = _kw(mock, "delay=5", max_retries=0, timeout=0.3)

    def call() -> Any:
        if is_async:
            return asyncio.run(litellm.acompletion(model=f"azure/{DEPLOYMENT}", **kw))
        return litellm.completion(model=f"azure/{DEPLOYMENT}", **kw)

    native, transparent = _native_and_transparent(mock, call)
    assert type(native[0]).__name__ == "Timeout"
    # The async message quotes the time taken, which differs run to run.
    assert type(transparent[0]) is type(native[0])
    assert str(transparent[0]).split("time taken=")[0] == str(native[0]).split("time taken=")[0]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_rate_limit_retries_equal(litellm, mock, is_async):
    """429 with ``max_retries``: the SDK's retries (headers renumbered), then the mapped error."""
    kw = _kw(mock, "status=429,retry_after=0.01", max_retries=2)

    def call() -> Any:
        if is_async:
            return asyncio.run(litellm.acompletion(model=f"azure/{DEPLOYMENT}", **kw))
        return litellm.completion(model=f"azure/{DEPLOYMENT}", **kw)

    native, transparent = _native_and_transparent(mock, call)
    assert len(native[1]) == 3
    assert error_view(transparent[0]) == error_view(native[0])


@pytest.mark.parametrize("model", ["o1-pro", "gpt-5-codex"])
def test_responses_api_models_served_as_responses(litellm, mock, model):
    """LiteLLM sends these OpenAI models to ``/responses`` (its Responses API bridge, before the
    OpenAI chat handler): patched, they are served as ``http.responses``; ``edgequake/`` refuses them."""
    kw = {"messages": MSGS, "api_key": KEY, "api_base": mock.base_url(), "max_retries": 0}
    # The generic tier's wire differs only as docs/providers.md lists (header case, `Connection`).
    native, transparent = both(
        lambda: _exchange(mock, lambda: litellm.completion(model=f"openai/{model}", **kw)), expect_rust=1
    )
    assert native[1][0]["path"] == "/v1/responses"
    assert transparent[1] == native[1]
    assert _dump(transparent[0]) == _dump(native[0])
    ours = _exchange(mock, lambda: litellm.completion(model=f"edgequake/openai/{model}", **kw))
    _refused(ours, f"openai/{model}")


def test_sdk_request_double_is_honoured(litellm, mock, monkeypatch):
    """A test double on the AzureOpenAI client's ``request`` (installed after ``install()``)
    sees every call: the core never steps around it."""
    import openai

    from .test_patch import patched

    original = openai.AzureOpenAI.request
    seen = []

    def double(self, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen.append(1)
        return original(self, *args, **kw)

    with patched():
        monkeypatch.setattr(openai.AzureOpenAI, "request", double)
        before = _served()
        r = litellm.completion(model=f"azure/{DEPLOYMENT}", **_kw(mock, max_retries=0))
        assert _served() == before
    assert seen == [1] and r.choices[0].message.content


def test_request_cache_sends_what_the_sdk_builds(litellm, mock):
    """The SDK's URL and headers are built once per client state and request shape; each call's
    body is still its own. A sequence of calls that reuses, changes and varies the shape (other
    messages, a header, a key, a deployment, async, a stream) reaches the upstream byte for byte
    as unpatched, with the later calls served from the cache."""
    from edgequake_litellm import _sdk_send

    dep = f"azure/{DEPLOYMENT}"
    calls: list[Callable[[], Any]] = [
        lambda: litellm.completion(model=dep, **_kw(mock)),
        lambda: litellm.completion(model=dep, **{**_kw(mock), "messages": [{"role": "user", "content": "ünï 2"}]}),
        lambda: litellm.completion(model=dep, **_kw(mock, extra_headers={"x-custom-header": "yes"})),
        lambda: litellm.completion(model=dep, **{**_kw(mock), "api_key": "another-key"}),
        lambda: litellm.completion(model="azure/other-deployment", **_kw(mock, temperature=0.5, max_tokens=9)),
        lambda: litellm.completion(model=dep, **_kw(mock)),
        lambda: asyncio.run(litellm.acompletion(model=dep, **_kw(mock))),
        lambda: list(litellm.completion(model=dep, stream=True, **_kw(mock))),
    ]
    wires: list[list] = []

    def run() -> list:
        _sdk_send._BUILT.clear()
        seen = []
        for call in calls:
            mock.reset()
            call()
            seen.append([_wire(r) for r in mock.requests()])
        wires.append(seen)
        return seen

    both(run, expect_rust=len(calls))
    assert wires[1] == wires[0]
    assert [len(w) for w in wires[0]] == [1] * len(calls)
    # One entry per shape: the default (calls 1, 2, 6 and the stream: a stream's URL and
    # headers are a plain call's), a header, a key, another deployment with other parameters,
    # and the async client.
    assert len(_sdk_send._BUILT) == 5, list(_sdk_send._BUILT)
