"""``CustomStreamWrapper`` methods as the ``stream_chunks`` accelerator runs them.

Each function here is LiteLLM's own method with the changes its docstring names, nothing else
(``tests/test_accel_stream_chunks.py`` checks ``__next__`` line by line against LiteLLM's
source). ``stream_chunks`` rebinds them to ``streaming_handler``'s module globals, so every name
they read (``executor``, ``print_verbose``, ``litellm``, ...) is the object LiteLLM's own method
reads at that moment, test doubles included; the imports below only name those objects for
readers and type checkers. The few helpers they need come in as closure variables of
``methods()``. The copied code stays as LiteLLM wrote it (hence the lint exemptions and
``fmt: off``).
"""

# ruff: noqa: ANN001, B009, B010, B904, E501, E701, UP037
# mypy: disable-error-code="return"

from __future__ import annotations

import datetime
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import litellm
from litellm.litellm_core_utils.hidden_params import HIDDEN_PARAMS_ATTR
from litellm.litellm_core_utils.model_response_utils import is_model_response_stream_empty
from litellm.litellm_core_utils.streaming_handler import (
    _provider_hidden_params,
    _provider_response_model,
    _stamp_served_service_tier,
    _stamp_usage_cost,
    _without_token_ids_under_post_call_rules,
    print_verbose,
)
from litellm.litellm_core_utils.thread_pool_executor import executor
from litellm.types.utils import ModelResponse, ModelResponseStream, StreamingChoices


def methods(
    message_observable: Callable[..., bool],
    custom_stream_chunk: Callable[[Any, Any], bool],
    keeps_created_only: Callable[[Any], bool],
    upstream_provider: Callable[[Any], Any],
    original_chunk_creator: Callable[[Any, Any], Any],
) -> dict[str, Callable[..., Any]]:
    """The replacement methods, closing over the accelerator's helpers:

    - ``message_observable(value, provider=None)``: whether ``print_verbose``'s message about
      ``value`` could be seen (or building it could raise);
    - ``custom_stream_chunk(self, chunk)``: whether ``chunk`` takes the custom-provider fast path;
    - ``keeps_created_only(self)``: whether ``model_response_creator``'s only lasting effect
      would be setting ``self.created``;
    - ``upstream_provider(chunk)``: ``_provider_upstream_provider`` exactly;
    - ``original_chunk_creator``: LiteLLM's ``chunk_creator``.
    """
    # fmt: off

    # LiteLLM's __next__, line for line, but for the two print_verbose messages, built only when
    # message_observable says someone could see them; the guard shares the message's line, so the
    # code object takes LiteLLM's file and first line and tracebacks read as LiteLLM's own.
    def __next__(self) -> "ModelResponseStream":
        if self._closed:
            raise StopIteration
        cache_hit = False
        if self.custom_llm_provider is not None and self.custom_llm_provider == "cached_response":
            cache_hit = True
        self._check_max_streaming_duration()
        try:
            if self.completion_stream is None:
                self.fetch_sync_stream()

            while True:
                if (
                    isinstance(self.completion_stream, str)
                    or isinstance(self.completion_stream, bytes)
                    or isinstance(self.completion_stream, ModelResponse)
                ):
                    chunk = self.completion_stream
                else:
                    chunk = next(self.completion_stream)
                if chunk is not None and chunk != b"":
                    if message_observable(chunk, self.custom_llm_provider): print_verbose(
                        f"PROCESSED CHUNK PRE CHUNK CREATOR: {chunk.decode('utf-8', errors='replace') if isinstance(chunk, bytes) else chunk}; custom_llm_provider: {self.custom_llm_provider}"
                    )
                    response: ModelResponseStream | None = self.chunk_creator(chunk=chunk)
                    if message_observable(response): print_verbose(f"PROCESSED CHUNK POST CHUNK CREATOR: {response}")

                    if response is None:
                        continue
                    if self.logging_obj.completion_start_time is None:
                        self.logging_obj.update_completion_start_time(completion_start_time=datetime.datetime.now())
                    ## LOGGING
                    if not litellm.disable_streaming_logging:
                        executor.submit(
                            self.run_success_logging_and_cache_storage,
                            response,
                            cache_hit,
                        )  # log response
                    if response.choices:
                        choice = response.choices[0]
                        if isinstance(choice, StreamingChoices):
                            self._accumulate_streamed_delta(choice.delta)
                    self.rules.post_call_rules(input=self.response_uptil_now, model=self.model)
                    # HANDLE STREAM OPTIONS
                    self.chunks.append(response)

                    # Add mcp_list_tools to first chunk if present
                    if not self.sent_first_chunk and response.choices:
                        response = self._add_mcp_list_tools_to_first_chunk(response)
                        self.sent_first_chunk = True

                    # ModelResponseStream declares `usage` as a field, so
                    # hasattr(response, "usage") is always True — must check
                    # `is not None` to avoid running this path on every chunk.
                    if getattr(response, "usage", None) is not None:
                        usage_to_preserve = response.usage
                        if usage_to_preserve:
                            response_hidden_params_for_usage = cast(  # cast-ok: preserve dynamic mapping behavior
                                dict[str, object], getattr(response, HIDDEN_PARAMS_ATTR)
                            )
                            response_hidden_params_for_usage["usage"] = usage_to_preserve

                        obj_dict = response.model_dump()

                        if "usage" in obj_dict:
                            del obj_dict["usage"]

                        response_hidden_params_for_model = cast(  # cast-ok: preserve dynamic mapping behavior
                            Mapping[str, object], getattr(response, HIDDEN_PARAMS_ATTR)
                        )
                        response = self.model_response_creator(
                            chunk=obj_dict, hidden_params=response_hidden_params_for_model
                        )
                        ## check if empty
                        is_empty = is_model_response_stream_empty(model_response=cast(ModelResponseStream, response))

                        if is_empty:
                            continue
                    # add usage as hidden param
                    if self.sent_last_chunk is True and self.stream_options is None:
                        self._set_final_chunk_usage(response)
                        # Add MCP metadata to final chunk if present
                        response = self._add_mcp_metadata_to_final_chunk(response)
                    # RETURN RESULT
                    return response

        except StopIteration:
            if self._should_fail_on_clean_eof():
                error: Final = self._stream_eof_error()
                eof_traceback: Final = traceback.format_exc()
                self._record_partial_usage_for_failure()
                threading.Thread(target=self.logging_obj.failure_handler, args=(error, eof_traceback)).start()
                self.close()
                self._handle_stream_fallback_error(error)
            if self.sent_last_chunk is True:
                complete_streaming_response: Final = self._build_complete_streaming_response()
                response = self._new_usage_chunk()
                if complete_streaming_response is not None:
                    self._propagate_usage_cost_to_hidden_params(
                        complete_streaming_response, self.custom_llm_provider, self.chunks
                    )

                    setattr(
                        response,
                        "usage",
                        getattr(complete_streaming_response, "usage"),
                    )
                    _stamp_served_service_tier(response, complete_streaming_response)
                    _stamp_usage_cost(response, complete_streaming_response)
                    try:
                        _cache_copy = complete_streaming_response.model_copy(deep=True)
                        _log_copy = complete_streaming_response.model_copy(deep=True)
                    except RuntimeError:
                        _cache_copy = complete_streaming_response.model_copy()
                        _log_copy = complete_streaming_response.model_copy()
                    self.cache_streaming_response(
                        processed_chunk=_cache_copy,
                        cache_hit=cache_hit,
                    )
                    executor.submit(
                        self.logging_obj.success_handler,
                        _log_copy,
                        None,
                        None,
                        cache_hit,
                    )
                else:
                    executor.submit(
                        self.logging_obj.success_handler,
                        response,
                        None,
                        None,
                        cache_hit,
                    )
                # Update hidden_params with final usage from
                # stream_chunk_builder.  Some providers (e.g. OpenRouter)
                # send usage in a chunk after finish_reason, which arrives
                # after _hidden_params["usage"] was initially set.  The
                # _hidden_params dict is the same object the user received
                # (shared by reference), so mutating it here also corrects
                # the user's copy.
                if (
                    self.stream_options is None
                    and complete_streaming_response is not None
                    and self._last_returned_hidden_params is not None
                ):
                    final_usage: Final = getattr(complete_streaming_response, "usage", None)
                    if final_usage is not None:
                        self._last_returned_hidden_params["usage"] = final_usage

                if self.sent_stream_usage is False and self.send_stream_usage is True:
                    self.sent_stream_usage = True
                    return response
                self.close()
                raise  # Re-raise StopIteration
            else:
                self.sent_last_chunk = True
                processed_chunk: Final = self.finish_reason_handler()
                final_chunk_for_logging: Final = self._final_chunk_for_logging(processed_chunk)
                if final_chunk_for_logging is not None:
                    self.chunks.append(final_chunk_for_logging)
                if self.stream_options is None:
                    self._set_final_chunk_usage(processed_chunk)
                ## LOGGING
                executor.submit(
                    self.run_success_logging_and_cache_storage,
                    processed_chunk,
                    cache_hit,
                )  # log response
                # Deliberately do NOT restore context here even though
                # completion_stream is already exhausted: this chunk is still
                # real data belonging to this call, and the caller's own
                # (application-level) log statements processing it run
                # immediately after this return, in this same synchronous
                # frame - restoring first would make those lines carry the
                # wrong ids, which is exactly what leaving context open during
                # iteration is meant to prevent (see
                # _restore_consumer_correlation_context's docstring). A caller
                # that keeps iterating gets cleaned up on its next __next__()
                # call (immediate StopIteration, handled above); one that
                # stops right here relies on aclose() or the best-effort
                # __del__ guard instead.
                return processed_chunk
        except Exception as e:
            traceback_exception: Final = traceback.format_exc()
            # LOG FAILURE - handle streaming failure logging in the _next_ object, remove `handle_failure` once it's deprecated
            threading.Thread(target=self.logging_obj.failure_handler, args=(e, traceback_exception)).start()
            self.close()
            self._handle_stream_fallback_error(e)

    def chunk_creator(self, chunk: Any) -> Any:
        """LiteLLM's ``chunk_creator`` for a ``ModelResponseStream`` from a custom provider (the
        ``edgequake/`` route): the statements that branch runs, in LiteLLM's order, without the
        two whose results it discards (``_prebuilt_plain_delta``, always None for such a chunk, and
        the response ``model_response_creator`` builds, of which only ``self.created`` lasts when
        ``keeps_created_only`` holds). Every other chunk runs LiteLLM's own method."""
        if not custom_stream_chunk(self, chunk):
            return original_chunk_creator(self, chunk)
        if chunk.provider_specific_fields:
            self.logging_obj.record_native_bedrock_guardrail(chunk.provider_specific_fields)
        if self.custom_llm_provider != "cached_response":
            self._ollama_response_ids.observe(chunk)
        if hasattr(chunk, "id"):
            self.response_id = chunk.id
        if self._ollama_response_ids.response_id is not None:
            self.response_id = self._ollama_response_ids.response_id
        provider_response_model = _provider_response_model(chunk)
        if provider_response_model is not None:
            self._provider_response_model = provider_response_model
        upstream_provider_name = upstream_provider(chunk)
        if self._upstream_provider is None and upstream_provider_name is not None:
            self._upstream_provider = upstream_provider_name
        if keeps_created_only(self):
            if self.created is None:
                self.created = int(time.time())
        else:
            self.model_response_creator(
                hidden_params=_provider_hidden_params(
                    chunk,
                    self._provider_response_model,
                    self._upstream_provider,
                ),
                delta=None,
            )
        try:
            # _dispatch_provider_chunk's branch for this chunk
            _has_content = bool(
                chunk.choices
                and chunk.choices[0].delta is not None
                and (chunk.choices[0].delta.content or chunk.choices[0].delta.tool_calls)
            )
            if self.received_finish_reason is not None:
                if not _has_content:
                    raise StopIteration
            if chunk.choices and chunk.choices[0].finish_reason:
                self.received_finish_reason = chunk.choices[0].finish_reason
                if not _has_content:
                    return _without_token_ids_under_post_call_rules(None)
                chunk.choices[0].finish_reason = None
            return _without_token_ids_under_post_call_rules(chunk)
        except StopIteration:
            raise StopIteration
        except Exception as e:
            traceback.format_exc()
            setattr(e, "message", str(e))
            raise self._map_stream_exception(e)

    # fmt: on
    return {"__next__": __next__, "chunk_creator": chunk_creator}
