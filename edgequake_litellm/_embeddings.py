"""Embedding requests as LiteLLM's own handler for the provider asks for and reads them.

LiteLLM's Azure handler calls the OpenAI SDK's ``embeddings.create``, which asks for
``encoding_format: "base64"`` unless the caller chose a format, and decodes the vectors it
gets back into float32 values (``openai/lib/_parsing/_embeddings.py``). The OpenAI handler
sends the request without that SDK step, so only Azure does this."""

from __future__ import annotations

import array
import base64
from typing import Any

from ._call import Call


def _sdk_encoded(call: Call, optional_params: dict[str, Any]) -> bool:
    if call.provider != "azure":
        return False
    extra_body = optional_params.get("extra_body")
    chosen = optional_params.get("encoding_format") or (
        extra_body.get("encoding_format") if isinstance(extra_body, dict) else None
    )
    return chosen is None


def request_params(call: Call, optional_params: dict[str, Any]) -> dict[str, Any]:
    """The parameters to send for this embedding call."""
    if _sdk_encoded(call, optional_params):
        return {**optional_params, "encoding_format": "base64"}
    return optional_params


def decoded(call: Call, optional_params: dict[str, Any], body: Any) -> Any:
    """The reply as the caller gets it: base64 vectors the SDK asked for, decoded as it decodes them."""
    if _sdk_encoded(call, optional_params) and isinstance(body, dict):
        for item in body.get("data") or ():
            if isinstance(item, dict) and isinstance(item.get("embedding"), str):
                item["embedding"] = array.array("f", base64.b64decode(item["embedding"])).tolist()
    return body
