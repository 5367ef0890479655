"""LiteLLM's Azure OpenAI handler with its SDK requests sent by the core (transparent mode).

``RustAzureChatCompletion`` is LiteLLM's own ``AzureChatCompletion`` with one method
overridden: ``get_azure_openai_client``, through which chat (sync, async, streams), the
cloudflare-gateway path and embeddings obtain the SDK client LiteLLM built or cached. It hands
that client's stand-in (``_sdk_send.core_client``: same class and state, requests sent by the
core) to LiteLLM's code, which runs unchanged: request transforms (GPT-5 config included),
``api_version`` defaults, logging, the output-token-limit reply, the timeout message, response
conversion and its error wrapping. The SDK still builds every request (deployment URL and
``api-version`` query, ``api-key`` or the Bearer token from ``azure_ad_token`` or the caller's
``azure_ad_token_provider``), so what reaches the upstream is what the AzureOpenAI client sends.
"""

from __future__ import annotations

from typing import Any

from litellm.llms.azure.azure import AzureChatCompletion

from ._sdk_send import core_client

_CHAT, _EMBEDDING = "azure.chat", "azure.embedding"


class RustAzureChatCompletion(AzureChatCompletion):  # type: ignore[misc]
    """LiteLLM's ``AzureChatCompletion`` whose SDK requests are sent by the core."""

    def __init__(self, route: str) -> None:
        super().__init__()
        self._route = route

    def get_azure_openai_client(self, *args: Any, **kwargs: Any) -> Any:
        client = super().get_azure_openai_client(*args, **kwargs)
        return None if client is None else core_client(client, self._route)


def twins() -> dict[str, RustAzureChatCompletion]:
    """One twin per route, so a request falling back inside one is counted under its route."""
    return {_CHAT: RustAzureChatCompletion(_CHAT), _EMBEDDING: RustAzureChatCompletion(_EMBEDDING)}
