"""Core results as LiteLLM's own types, filled the way LiteLLM's native OpenAI path fills them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import litellm
from litellm.litellm_core_utils.llm_response_utils.convert_dict_to_response import convert_to_model_response_object
from litellm.types.utils import EmbeddingResponse, ModelResponse, ModelResponseStream

from ._call import Call

# Providers whose replies the core translates into OpenAI shape.
_TRANSLATED = frozenset({"anthropic", "gemini"})

# Prices the caller set for the deployment take precedence over the upstream model's.
_CALLER_PRICING = ("input_cost_per_token", "output_cost_per_token", "input_cost_per_second", "output_cost_per_second")


def log_pre_call(logging_obj: Any, call: Call, payload: Any, request_body: dict) -> None:
    logging_obj.pre_call(
        input=payload,
        api_key=None,  # never hand the key to loggers
        additional_args={
            "api_base": call.api_base,
            "headers": call.kw.get("headers"),
            "complete_input_dict": request_body,
            "edgequake_provider": call.provider,
        },
    )


def log_post_call(logging_obj: Any, call: Call, payload: Any, body: Any, headers: dict[str, str]) -> None:
    logging_obj.model_call_details["response_headers"] = headers
    logging_obj.post_call(input=payload, api_key=None, original_response=body, additional_args={})


def _stamp_cost(response: Any, call: Call, call_type: str, logging_obj: Any = None) -> None:
    """Price the response as the upstream model, as LiteLLM prices its native path (which
    also records the cost breakdown callbacks get on ``logging_obj``).

    Without this, LiteLLM would price the ``edgequake`` provider and find no price."""
    if any(call.litellm_params.get(k) is not None for k in _CALLER_PRICING):
        return
    model_info = call.litellm_params.get("model_info") or {}
    if isinstance(model_info, dict) and model_info.get("base_model"):
        return
    hidden = response._hidden_params
    # completion_cost prices by the provider stamped on the response; price the real one.
    stamped = hidden.get("custom_llm_provider")
    hidden["custom_llm_provider"] = call.provider
    try:
        cost = litellm.completion_cost(
            completion_response=response,
            model=call.model,
            custom_llm_provider=call.provider,
            call_type=call_type,
            litellm_logging_obj=logging_obj,
        )
    except Exception:
        return  # unknown model: LiteLLM's native path would record no cost either
    finally:
        hidden["custom_llm_provider"] = stamped
    hidden["response_cost"] = cost


def estimate_reasoning_tokens(usage: Any) -> None:
    """The core marks usage whose reasoning-token count the upstream did not report (Anthropic
    reports none) with the reasoning text; LiteLLM estimates the count with its tokenizer,
    which only exists here."""
    if not isinstance(usage, dict) or "_reasoning_text" not in usage:
        return
    from litellm.utils import token_counter

    text = usage.pop("_reasoning_text")
    completion = int(usage.get("completion_tokens") or 0)
    estimate = max(0, min(token_counter(text=text, count_response_tokens=True), completion))
    usage["completion_tokens_details"] = {"reasoning_tokens": estimate, "text_tokens": completion - estimate}


def _native_provider_fields(response: Any, body: dict) -> None:
    """LiteLLM's own Anthropic/Gemini paths build their choices directly: no choice-level
    ``provider_specific_fields`` unless the provider has some, and message-level ones exactly
    as the core wrote them. The OpenAI converter always sets the first and folds
    ``thinking_blocks`` into the second."""
    for choice, raw in zip(response.choices, body.get("choices") or ()):
        if getattr(choice, "provider_specific_fields", None) == {}:
            del choice.provider_specific_fields
        message = getattr(choice, "message", None)
        if message is None:
            continue
        fields = (raw.get("message") or {}).get("provider_specific_fields")
        if fields is None:
            if hasattr(message, "provider_specific_fields"):
                del message.provider_specific_fields
        else:
            message.provider_specific_fields = fields


def fill_chat(
    model_response: ModelResponse, body: dict, headers: dict[str, str], call: Call, logging_obj: Any = None
) -> ModelResponse:
    estimate_reasoning_tokens(body.get("usage"))
    response = convert_to_model_response_object(
        response_object=body, model_response_object=model_response, _response_headers=headers
    )
    if call.provider in _TRANSLATED:
        _native_provider_fields(response, body)
    _stamp_cost(response, call, "completion", logging_obj)
    return response  # type: ignore[return-value]


def fill_embedding(
    model_response: EmbeddingResponse,
    body: dict,
    headers: dict[str, str],
    call: Call,
    payload: Any = None,
    logging_obj: Any = None,
) -> EmbeddingResponse:
    if call.provider == "gemini" and "usage" not in body:
        # batchEmbedContents reports no usage: LiteLLM counts the input with its tokenizer.
        from litellm.utils import get_formatted_prompt, token_counter

        text = get_formatted_prompt(data={"input": payload}, call_type="embedding")
        tokens = token_counter(model=call.model, text=text)
        body["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    response = convert_to_model_response_object(
        response_object=body,
        model_response_object=model_response,
        response_type="embedding",
        _response_headers=headers,
    )
    _stamp_cost(response, call, "embedding", logging_obj)
    return response  # type: ignore[return-value]


class StreamAssembler:
    """Upstream chunk dicts -> ``ModelResponseStream`` objects, in order, with one change.

    OpenAI sends the usage chunk (``choices: []``) after the chunk carrying
    ``finish_reason``; LiteLLM's wrapper drops usage that a custom provider yields after
    the finish and re-estimates it. Holding the finish chunk until the usage chunk has
    been yielded keeps the provider's usage, as LiteLLM's native path does."""

    def __init__(self) -> None:
        self._held: dict | None = None

    def feed(self, batch: Iterable[dict]) -> Iterator[ModelResponseStream]:
        for chunk in batch:
            estimate_reasoning_tokens(chunk.get("usage"))
            held = self._held
            if held is not None:
                self._held = None
                if not chunk.get("choices") and chunk.get("usage"):
                    yield ModelResponseStream(**chunk)
                    yield ModelResponseStream(**held)
                    continue
                yield ModelResponseStream(**held)
            if any(c.get("finish_reason") for c in chunk.get("choices") or ()):
                self._held = chunk
                continue
            yield ModelResponseStream(**chunk)

    def finish(self) -> Iterator[ModelResponseStream]:
        held, self._held = self._held, None
        if held is not None:
            yield ModelResponseStream(**held)
