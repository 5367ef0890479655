"""The contract between transparent mode and LiteLLM's internals: it holds on the installed
LiteLLM, and any drift makes ``install(patch=True)`` refuse loudly, leaving LiteLLM as it was."""

from __future__ import annotations

import warnings

import pytest

import edgequake_litellm
from edgequake_litellm import _contract, _patch

from .conftest import KEY


def test_installed_litellm_matches_the_contract(litellm):
    assert _contract.problems() == []


def _refused(litellm) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        edgequake_litellm.install(patch=True)
    try:
        assert not _patch.is_patched()
        for name in (
            "openai_chat_completions",
            "base_llm_http_handler",
            "anthropic_chat_completions",
            "vertex_chat_completion",
            "bedrock_converse_chat_completion",
            "azure_chat_completions",
            "openai_text_completions",
            "azure_text_completions",
        ):
            assert "completion" not in getattr(getattr(litellm.main, name, None), "__dict__", {})
        assert "embeddings" not in getattr(getattr(litellm.main, "bedrock_embedding", None), "__dict__", {})
        messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert messages and "transparent mode not installed" in messages[0]
        assert edgequake_litellm.status()["refused"]
        return messages
    finally:
        _patch.uninstall()


def test_changed_signature_refuses(litellm, monkeypatch, mock):
    from litellm.llms.openai.openai import OpenAIChatCompletion

    def moved(self, openai_client, body, timeout, logging_obj):  # noqa: ANN001, ANN202 - `data` renamed
        raise AssertionError("never called")

    monkeypatch.setattr(OpenAIChatCompletion, "make_sync_openai_chat_completion_request", moved)
    messages = _refused(litellm)
    assert "make_sync_openai_chat_completion_request lost parameters ['data']" in messages[0]
    # The edgequake/ provider does not depend on those internals.
    r = litellm.completion(
        model="edgequake/openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        api_key=KEY,
        api_base=mock.base_url(),
    )
    assert r.choices[0].message.content


def test_missing_handler_refuses(litellm, monkeypatch):
    monkeypatch.delattr(litellm.main, "base_llm_http_handler")
    messages = _refused(litellm)
    assert "base_llm_http_handler" in messages[0]


@pytest.mark.parametrize(
    ("owner", "method"),
    [
        ("litellm.llms.custom_httpx.llm_http_handler.BaseLLMHTTPHandler", "response_api_handler"),
        ("litellm.llms.bedrock.chat.converse_handler.BedrockConverseLLM", "completion"),
        ("litellm.llms.bedrock.embed.embedding.BedrockEmbedding", "embeddings"),
    ],
)
def test_handler_losing_client_refuses(litellm, monkeypatch, owner, method):
    """The Responses API and Bedrock routes hand LiteLLM's handler its client: a handler that no
    longer takes one would silently make its own."""
    import importlib

    module, cls = owner.rsplit(".", 1)

    def no_client(self, **kw):  # noqa: ANN001, ANN003, ANN202
        raise AssertionError("never called")

    monkeypatch.setattr(getattr(importlib.import_module(module), cls), method, no_client)
    messages = _refused(litellm)
    assert f"{cls}.{method} lost parameters" in messages[0] and "'client'" in messages[0]
    assert "response_api_handler" not in vars(importlib.import_module("litellm.responses.main").base_llm_http_handler)


def test_responses_module_no_longer_calling_the_handler_refuses(litellm, monkeypatch):
    monkeypatch.setattr(
        _contract, "_MODULE_DISPATCH_CALLS", (("litellm.responses.main", "base_llm_http_handler.gone("),)
    )
    messages = _refused(litellm)
    assert "litellm.responses.main no longer calls base_llm_http_handler.gone(" in messages[0]


def test_dispatch_no_longer_calling_the_handler_refuses(litellm, monkeypatch):
    monkeypatch.setattr(_contract, "_DISPATCH_CALLS", (*_contract._DISPATCH_CALLS, "openai_chat_completions.gone("))
    messages = _refused(litellm)
    assert "no longer calls openai_chat_completions.gone(" in messages[0]


@pytest.mark.parametrize("route", ["CHAT_COMPLETIONS", "EMBEDDINGS", "RESPONSES"])
def test_litellm_rust_bridge_taking_over_refuses(litellm, monkeypatch, route):
    from litellm.rust_bridge import catalog
    from litellm.rust_bridge.configuration import Rollout

    flipped = (catalog.RouteRule(getattr(catalog.Route, route), Rollout.RUST_OPT_OUT), *catalog.RULES)
    monkeypatch.setattr(catalog, "RULES", flipped)
    messages = _refused(litellm)
    assert "rust_bridge may serve" in messages[0]


def test_azure_handler_building_clients_elsewhere_refuses(litellm, monkeypatch):
    """The Azure twin serves the clients LiteLLM obtains through ``get_azure_openai_client``:
    a release that builds them another way must refuse, not silently stop serving."""
    from litellm.llms.azure.azure import AzureChatCompletion

    async def aembedding(self, **kw):  # noqa: ANN001, ANN003, ANN202 - a client built inline
        raise AssertionError("never called")

    monkeypatch.setattr(AzureChatCompletion, "aembedding", aembedding)
    messages = _refused(litellm)
    assert "AzureChatCompletion.aembedding no longer calls self.get_azure_openai_client" in messages[0]


def test_changed_sdk_request_refuses(litellm, monkeypatch):
    """The SDK's own request steps are run in its order: a changed one refuses."""
    from openai._base_client import BaseClient

    def build(self, opts, *, retries_taken=0):  # noqa: ANN001, ANN202 - `options` renamed
        raise AssertionError("never called")

    monkeypatch.setattr(BaseClient, "_build_request", build)
    messages = _refused(litellm)
    assert "_build_request lost parameters ['options']" in messages[0]


def test_azure_token_provider_renamed_refuses(litellm, monkeypatch):
    """Each retry is rebuilt when the client holds a token provider: an SDK keeping it under
    another name must refuse, not silently resend the first attempt's token."""
    import openai

    def token(self):  # noqa: ANN001, ANN202 - the provider read from elsewhere
        raise AssertionError("never called")

    monkeypatch.setattr(openai.AzureOpenAI, "_get_azure_ad_token", token)
    messages = _refused(litellm)
    assert "AzureOpenAI._get_azure_ad_token no longer reads self._azure_ad_token_provider" in messages[0]


def test_new_patch_points_listed(litellm):
    edgequake_litellm.install(patch=True)
    try:
        points = edgequake_litellm.status()["patch_points"]
    finally:
        _patch.uninstall()
    for point in (
        "litellm.main.azure_chat_completions.completion",
        "litellm.main.azure_chat_completions.embedding",
        "litellm.main.openai_text_completions.completion",
        "litellm.main.azure_text_completions.completion",
        "litellm.main.bedrock_converse_chat_completion.completion",
        "litellm.main.bedrock_embedding.embeddings",
        "litellm.responses.main.base_llm_http_handler.response_api_handler",
    ):
        assert point in points, point


# A text completion handler method, as a release could change it (the body is never run).
def _built_elsewhere(self, **kw):  # noqa: ANN001, ANN003, ANN202 - builds its client another way
    client = OpenAI(api_key=kw["api_key"], max_retries=kw["max_retries"])  # noqa: F821
    return client


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("completion", "OpenAITextCompletion.completion no longer has"),
        ("acompletion", "OpenAITextCompletion.acompletion no longer has"),
        ("streaming", "OpenAITextCompletion.streaming no longer has"),
        ("async_streaming", "OpenAITextCompletion.async_streaming no longer has"),
    ],
)
def test_text_handler_building_clients_elsewhere_refuses(litellm, monkeypatch, method, expected):
    """The text twin builds the SDK client LiteLLM's handler would, where it would: a release
    that builds it another way (other arguments, another factory) must refuse."""
    from litellm.llms.openai.completion.handler import OpenAITextCompletion

    monkeypatch.setattr(OpenAITextCompletion, method, _built_elsewhere)
    messages = _refused(litellm)
    assert expected in messages[0]


def _eager_streaming(
    self, api_key, api_base, timeout, max_retries=None, client=None, organization=None, litellm_params=None, **kw
):  # noqa: ANN001, ANN003, ANN202, E501
    import litellm
    from litellm.llms.openai.completion.handler import build_openai_client

    openai_client = (
        client
        if client is not None
        else build_openai_client(
            api_key=api_key,
            api_base=api_base,
            timeout=timeout,
            max_retries=max_retries,
            organization=organization,
            litellm_params=litellm_params,
            static_key_http_client_factory=lambda: litellm.client_session,
        )
    )
    return list(openai_client.completions.create(**kw))


def test_text_handler_stream_no_longer_lazy_refuses(litellm, monkeypatch):
    """The twin resumes the routed call around a stream's first read: LiteLLM's ``streaming``
    must still be a generator (building its client on that read), not only build it the same way."""
    from litellm.llms.openai.completion.handler import OpenAITextCompletion

    monkeypatch.setattr(OpenAITextCompletion, "streaming", _eager_streaming)
    messages = _refused(litellm)
    assert "no longer has" not in messages[0]
    assert "OpenAITextCompletion.streaming is no longer a generatorfunction" in messages[0]


def test_azure_text_handler_building_clients_elsewhere_refuses(litellm, monkeypatch):
    from litellm.llms.azure.completion.handler import AzureTextCompletion

    def streaming(self, **kw):  # noqa: ANN001, ANN003, ANN202 - a client built inline
        raise AssertionError("never called")

    monkeypatch.setattr(AzureTextCompletion, "streaming", streaming)
    messages = _refused(litellm)
    assert "AzureTextCompletion.streaming no longer calls self.get_azure_openai_client" in messages[0]


def test_sdk_request_building_is_the_one_the_cache_was_read_against():
    """The SDK stand-in reuses a request's URL and headers only for the request-building code
    it was read against (elsewhere it builds every request, still exactly): a new OpenAI SDK
    must be read again, and the digest renewed, for the cache to stay on."""
    from edgequake_litellm import _sdk_send

    assert _sdk_send.build_digest() == _sdk_send._PINNED_BUILD
    assert _sdk_send._cacheable_classes()
