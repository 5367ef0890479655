"""Every step of each provider's resolution order, differentially.

For each provider the core serves and each source of its base URL and of its API key (the
per-call argument, ``litellm.*`` settings, environment variables, defaults; the order is the
registry's, ``_core.providers()``), that source and every source after it are set to distinct
values pointing at the mock upstream; the native call (``<provider>/<model>``) and
``edgequake/<provider>/<model>`` must then reach the same base with the same credential. A
source LiteLLM does not read at that step, or reads in another order, makes the two differ.
Base URL defaults are public hosts and are not exercised (no test may leave 127.0.0.1).

Also: the headers LiteLLM adds from the environment (openrouter's ``HTTP-Referer``/``X-Title``
from ``OR_SITE_URL``/``OR_APP_NAME``, OpenAI's organization and project)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from edgequake_litellm import _core

from .conftest import KEY

PROVIDERS = _core.providers()
MSGS = [{"role": "user", "content": "hello"}]
# Providers whose native twin is another LiteLLM route: Ollama's /v1 endpoint has none in
# LiteLLM, whose `ollama_chat/` resolves base and key in the same order (docs/providers.md);
# LiteLLM serves openai_like only for embeddings.
NATIVE_MODEL = {"ollama": "ollama_chat/some-model"}
EMBEDDING_ONLY = {"openai_like"}
ROOT_BASE = {"azure", "ollama"}  # the base is the server root, the route adds the rest
AUTH_HEADERS = ("authorization", "api-key", "x-api-key", "x-goog-api-key")


def _env(src: str) -> str | None:
    return src.removeprefix("env:") if src.startswith("env:") else None


def _attr(src: str) -> str | None:
    return src.removeprefix("litellm.") if src.startswith("litellm.") else None


ALL_ENV = sorted(
    {
        e
        for spec in PROVIDERS.values()
        for kind in ("api_base", "api_key", "api_version")
        for s in spec[kind]
        if (e := _env(s))
    }
)
ALL_ATTRS = sorted(
    {
        a
        for spec in PROVIDERS.values()
        for kind in ("api_base", "api_key", "api_version")
        for s in spec[kind]
        if (a := _attr(s))
    }
)
EXTRA_ENV = (
    "OR_SITE_URL",
    "OR_APP_NAME",
    "OPENAI_ORG_ID",
    "OPENAI_ORGANIZATION",
    "OPENAI_PROJECT_ID",
    "AZURE_AD_TOKEN",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch, litellm):
    for name in (*ALL_ENV, *EXTRA_ENV, "AZURE_OPENAI_AD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for attr in (*ALL_ATTRS, "organization", "headers"):
        if attr != "AZURE_DEFAULT_API_VERSION":
            monkeypatch.setattr(litellm, attr, None, raising=False)


def _base_value(mock, provider: str, i: int) -> str:
    root = f"{mock.url}/s/src={i}"
    return root if provider in ROOT_BASE else f"{root}/v1"


def _set(monkeypatch, litellm, src: str, value: str) -> dict[str, Any]:
    """Set one source; returns the call arguments it needs."""
    if (env := _env(src)) is not None:
        monkeypatch.setenv(env, value)
    elif (attr := _attr(src)) is not None:
        monkeypatch.setattr(litellm, attr, value)
    elif src == "arg":
        return {"value": value}
    return {}


def _main_request(mock) -> dict | None:
    reqs = [r for r in mock.requests() if not r["path"].endswith("/api/show")]
    return reqs[-1] if reqs else None


def _observed(litellm, mock, model: str, provider: str, kw: dict[str, Any]) -> tuple:
    """Which source's base the request reached and the credential it carried, or the
    exception class when nothing was sent."""
    mock.reset()
    err = None
    try:
        if provider in EMBEDDING_ONLY:
            litellm.embedding(model=model, input=["hello"], max_retries=0, **kw)
        else:
            litellm.completion(model=model, messages=MSGS, max_retries=0, **kw)
    except Exception as e:  # noqa: BLE001 - native transforms may choke on the mock's reply
        err = type(e).__name__
    req = _main_request(mock)
    if req is None:
        return ("nothing sent", err)
    m = re.match(r"/s/src=(\d+)/", req["path"])
    auth = {h: req["headers"][h] for h in AUTH_HEADERS if h in req["headers"]}
    return ("sent", m.group(1) if m else req["path"], auth, req["path"])


def _compare(litellm, mock, provider: str, kw: dict[str, Any]) -> tuple:
    native = _observed(litellm, mock, NATIVE_MODEL.get(provider, f"{provider}/some-model"), provider, kw)
    ours = _observed(litellm, mock, f"edgequake/{provider}/some-model", provider, kw)
    if provider in NATIVE_MODEL and native[0] == ours[0] == "sent":
        # Another route natively: the same base and credential, not the same path.
        native, ours = native[:3], ours[:3]
    assert ours == native
    return native


def _cases(kind: str) -> list[tuple[str, int]]:
    out = []
    for provider, spec in sorted(PROVIDERS.items()):
        for i, src in enumerate(spec[kind]):
            if kind == "api_base" and src.startswith("default:"):
                continue
            out.append((provider, i))
    return out


@pytest.mark.parametrize(
    ("provider", "level"),
    _cases("api_base"),
    ids=[f"{p}-{PROVIDERS[p]['api_base'][i]}" for p, i in _cases("api_base")],
)
def test_base_precedence_equal(litellm, mock, monkeypatch, provider, level):
    spec = PROVIDERS[provider]
    kw: dict[str, Any] = {"api_key": KEY}
    if spec["api_version"]:
        kw["api_version"] = "2024-10-21"
    for i in range(level, len(spec["api_base"])):
        src = spec["api_base"][i]
        if src.startswith("default:"):
            continue
        if "value" in (got := _set(monkeypatch, litellm, src, _base_value(mock, provider, i))):
            kw["api_base"] = got["value"]
    native = _compare(litellm, mock, provider, kw)
    assert native[0] == "sent" and native[1] == str(level), native


@pytest.mark.parametrize(
    ("provider", "level"),
    _cases("api_key"),
    ids=[f"{p}-{PROVIDERS[p]['api_key'][i]}" for p, i in _cases("api_key")],
)
def test_key_precedence_equal(litellm, mock, monkeypatch, provider, level):
    spec = PROVIDERS[provider]
    kw: dict[str, Any] = {"api_base": _base_value(mock, provider, 0)}
    if spec["api_version"]:
        kw["api_version"] = "2024-10-21"
    for i in range(level, len(spec["api_key"])):
        src = spec["api_key"][i]
        if src.startswith("default:"):
            continue
        if "value" in (got := _set(monkeypatch, litellm, src, f"sk-src-{i}")):
            kw["api_key"] = got["value"]
    native = _compare(litellm, mock, provider, kw)
    expected = (
        spec["api_key"][level].removeprefix("default:")
        if spec["api_key"][level].startswith("default:")
        else f"sk-src-{level}"
    )
    assert native[0] == "sent" and expected in " ".join(native[2].values()), native


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_no_key_equal(litellm, mock, provider):
    """Nothing set: the same request without auth, or the same error before sending."""
    spec = PROVIDERS[provider]
    kw: dict[str, Any] = {"api_base": _base_value(mock, provider, 0)}
    if spec["api_version"]:
        kw["api_version"] = "2024-10-21"
    _compare(litellm, mock, provider, kw)


# ---- headers from the environment --------------------------------------------------------

OPENROUTER_HEADERS = [
    ("defaults", {}),
    ("site_url", {"OR_SITE_URL": "https://example.test/app"}),
    ("app_name", {"OR_APP_NAME": "edgequake tests"}),
    ("both", {"OR_SITE_URL": "https://example.test/app", "OR_APP_NAME": "edgequake tests"}),
]


def _headers(litellm, mock, model: str, names: tuple[str, ...], **extra: Any) -> dict[str, str | None]:
    mock.reset()
    # LiteLLM caches SDK clients per key and base, and the SDK reads the organization and
    # project variables when it builds one: a base of its own gets a client built now.
    base = mock.base_url(f"client={uuid.uuid4().hex}")
    try:
        litellm.completion(model=model, messages=MSGS, api_key=KEY, api_base=base, max_retries=0, **extra)
    except Exception:  # noqa: BLE001, S110 - the request is what is compared
        pass
    req = _main_request(mock)
    assert req is not None
    return {n: req["headers"].get(n) for n in names}


@pytest.mark.parametrize(("name", "env"), OPENROUTER_HEADERS, ids=[c[0] for c in OPENROUTER_HEADERS])
def test_openrouter_headers_equal(litellm, mock, monkeypatch, name, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    names = ("http-referer", "x-title")
    native = _headers(litellm, mock, "openrouter/some-model", names)
    assert native["http-referer"] == env.get("OR_SITE_URL", "https://litellm.ai")
    assert native["x-title"] == env.get("OR_APP_NAME", "liteLLM")
    assert _headers(litellm, mock, "edgequake/openrouter/some-model", names) == native


def test_openrouter_caller_headers_win(litellm, mock, monkeypatch):
    monkeypatch.setenv("OR_SITE_URL", "https://example.test/env")
    names = ("http-referer", "x-title")
    extra = {"extra_headers": {"HTTP-Referer": "https://example.test/caller"}}
    native = _headers(litellm, mock, "openrouter/some-model", names, **extra)
    assert native["http-referer"] == "https://example.test/caller"
    assert _headers(litellm, mock, "edgequake/openrouter/some-model", names, **extra) == native


ORG_LEVELS = [
    ("OPENAI_ORG_ID", "org-env-id"),
    ("OPENAI_ORGANIZATION", "org-env-organization"),
    ("litellm.organization", "org-litellm"),
]


@pytest.mark.parametrize("level", range(len(ORG_LEVELS)), ids=[o[0] for o in ORG_LEVELS])
@pytest.mark.parametrize("provider", ["openai", "custom_openai"])
def test_openai_organization_precedence_equal(litellm, mock, monkeypatch, provider, level):
    for name, value in ORG_LEVELS[: level + 1]:
        if name.startswith("litellm."):
            monkeypatch.setattr(litellm, name.removeprefix("litellm."), value)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-env")
    names = ("openai-organization", "openai-project")
    native = _headers(litellm, mock, f"{provider}/gpt-4o-mini", names)
    assert native == {"openai-organization": ORG_LEVELS[level][1], "openai-project": "proj-env"}
    assert _headers(litellm, mock, f"edgequake/{provider}/gpt-4o-mini", names) == native
