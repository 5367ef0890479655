"""Core results as LiteLLM's own types, filled the way LiteLLM's native OpenAI path fills them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import Any

import litellm
from litellm.litellm_core_utils.llm_response_utils.convert_dict_to_response import convert_to_model_response_object
from litellm.types.utils import EmbeddingResponse, ModelResponse, ModelResponseStream

from . import _core
from ._call import Call, family, translated
from ._sdk_shape import sdk_chunk

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


def _priced_by_caller(call: Call) -> bool:
    if any(call.litellm_params.get(k) is not None for k in _CALLER_PRICING):
        return True
    model_info = call.litellm_params.get("model_info") or {}
    return isinstance(model_info, dict) and bool(model_info.get("base_model"))


def _stamp_cost(response: Any, call: Call, call_type: str, logging_obj: Any = None) -> None:
    """Price the response as the upstream model, as LiteLLM prices its native path (which
    also records the cost breakdown callbacks get on ``logging_obj``).

    Without this, LiteLLM would price the ``edgequake`` provider and find no price."""
    if _priced_by_caller(call):
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


def stream_pricer(call: Call) -> Callable[[dict], float | None]:
    """The cost of a streamed call's usage, priced as the upstream model as ``_stamp_cost``
    prices a reply (LiteLLM's stream wrapper would price the ``edgequake`` provider)."""

    def price(usage: dict) -> float | None:
        if _priced_by_caller(call):
            return None
        response = ModelResponse(model=call.model, usage=litellm.Usage(**usage))
        response._hidden_params["custom_llm_provider"] = call.provider
        _stamp_cost(response, call, "completion")
        cost = response._hidden_params.get("response_cost")
        return cost if isinstance(cost, (int, float)) else None

    return price


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


@cache
def _service_tiers(provider: str) -> tuple[str, ...] | None:
    spec = _core.providers().get(provider) or {}
    tiers = spec.get("reply_service_tiers")
    return tuple(tiers) if tiers else None


def _provider_reply_rules(response: Any, provider: str) -> None:
    """The reply rewrites the provider's own LiteLLM ``transform_response`` makes, declared in
    the core's provider table: ``reply_service_tiers`` (groq: a tier OpenAI does not name,
    or none, becomes the first, ``auto``)."""
    tiers = _service_tiers(provider)
    if tiers is not None and getattr(response, "service_tier", None) not in tiers:
        response.service_tier = tiers[0]


def fill_chat(
    model_response: ModelResponse, body: dict, headers: dict[str, str], call: Call, logging_obj: Any = None
) -> ModelResponse:
    estimate_reasoning_tokens(body.get("usage"))
    response = convert_to_model_response_object(
        response_object=body, model_response_object=model_response, _response_headers=headers
    )
    if translated(call.provider):
        _native_provider_fields(response, body)
    _provider_reply_rules(response, call.provider)
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
    if family(call.provider) == "gemini" and "usage" not in body:
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


_USAGE_CHUNK_FIELDS = frozenset(ModelResponseStream.model_fields) | {"usage"}


def _sdk_shaped(chunk: dict, first: bool) -> dict:
    """An OpenAI-wire chunk as LiteLLM's native path renders it (``CustomStreamWrapper``'s
    OpenAI branch, which a custom provider's chunks skip): parsed by the OpenAI SDK, so every
    SDK field is present (None when unsent: ``refusal``, tool-call ``id``, ``service_tier``,
    ``obfuscation``, ``moderation``), with ``citations`` None, no ``usage`` key while there is
    none, and after the first chunk the deltas' ``provider_specific_fields`` set to None."""
    shaped = sdk_chunk(chunk)
    if shaped.get("usage") is None:
        shaped.pop("usage", None)
    shaped.setdefault("citations", None)
    for choice in shaped.get("choices") or ():
        if not first and isinstance(choice.get("delta"), dict):
            choice["delta"]["provider_specific_fields"] = None
    return shaped


class UnreadableChunk(Exception):
    """An OpenAI-wire chunk that is JSON but not an object: LiteLLM's native path fails on it
    with ``original``, which the caller maps as natively."""

    def __init__(self, chunk: Any) -> None:
        super().__init__()
        self.original = AttributeError(f"'{type(chunk).__name__}' object has no attribute 'choices'")


class StreamAssembler:
    """Upstream chunk dicts -> ``ModelResponseStream`` objects, in order, with these changes.

    OpenAI sends the usage chunk (``choices: []``) after the chunk carrying
    ``finish_reason``; LiteLLM's wrapper drops usage that a custom provider yields after
    the finish and re-estimates it. Holding the finish chunk until the usage chunk has
    been yielded keeps the provider's usage, as LiteLLM's native path does. The usage chunk
    goes without its undeclared extras (OpenAI's ``obfuscation`` padding): the wrapper strips
    its usage and would pass on a chunk that carries nothing else, one more than natively.

    With ``price``, the usage is priced when it arrives and the cost put on the first
    chunk's hidden params, which LiteLLM's stream builder takes for the whole response: the
    wrapper's final usage chunk then carries ``cost`` as on the native path.

    ``openai_wire``: the chunks are an OpenAI-compatible upstream's own (not translated by
    the core), so their deltas get the shape LiteLLM's native OpenAI path gives them.
    ``wrapped=False`` (the direct API, no wrapper): the upstream's order is kept."""

    def __init__(
        self,
        price: Callable[[dict], float | None] | None = None,
        openai_wire: bool = False,
        wrapped: bool = True,
        model: str | None = None,
    ) -> None:
        self._held: dict | None = None
        # LiteLLM's native OpenAI path names the requested model on every chunk (not the
        # upstream's dated snapshot), except for the providers whose served model it keeps.
        self._model = model
        self._price = price
        self._wrapped = wrapped
        self.openai_wire = openai_wire
        # Chunks came, and one's first choice carried a finish_reason (what LiteLLM's wrapper
        # looks at; it fails a stream of chunks without one, not a stream of none).
        self.started = False
        self.finished = False
        self._first: ModelResponseStream | None = None

    def feed(self, batch: Iterable[dict]) -> Iterator[ModelResponseStream]:
        for chunk in batch:
            if self.openai_wire and not isinstance(chunk, dict):
                if chunk is None:  # the SDK parses ``null`` as no chunk, which LiteLLM skips
                    continue
                raise UnreadableChunk(chunk)
            estimate_reasoning_tokens(chunk.get("usage"))
            self.started = True
            choices = chunk.get("choices")
            if not self.finished and choices and isinstance(choices[0], dict) and choices[0].get("finish_reason"):
                self.finished = True
            held = self._held
            if held is not None:
                self._held = None
                if not chunk.get("choices") and chunk.get("usage"):
                    yield self._usage(chunk)
                    yield ModelResponseStream(**held)
                    continue
                yield self._chunk(held)
            if self._wrapped and any(c.get("finish_reason") for c in chunk.get("choices") or ()):
                self._held = chunk
                continue
            yield self._usage(chunk) if not chunk.get("choices") and chunk.get("usage") else self._chunk(chunk)

    def _chunk(self, chunk: dict) -> ModelResponseStream:
        if self.openai_wire:
            chunk = _sdk_shaped(chunk, self._first is None)
            if self._model is not None:
                chunk["model"] = self._model
        out = ModelResponseStream(**chunk)
        if self._first is None:
            self._first = out
        return out

    def _usage(self, chunk: dict) -> ModelResponseStream:
        if self._wrapped:
            chunk = {k: v for k, v in chunk.items() if k in _USAGE_CHUNK_FIELDS}
        out = self._chunk(chunk)
        if self._price is not None and self._first is not None:
            cost = self._price(chunk["usage"])
            if cost is not None:
                self._first._hidden_params["response_cost"] = cost
        return out

    def finish(self) -> Iterator[ModelResponseStream]:
        held, self._held = self._held, None
        if held is not None:
            yield self._chunk(held)
