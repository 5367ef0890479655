"""``CustomStreamWrapper.run_success_logging_and_cache_storage`` as ``stream_logging`` runs it.

LiteLLM's method line for line, but for its ``asyncio.run(...)``, which goes to ``run_logging``
(``tests/test_accel_stream_logging.py`` checks the source against LiteLLM's). ``stream_logging``
rebinds it to ``streaming_handler``'s module globals, so every other name it reads is what
LiteLLM's own method reads at that moment; the imports below only name those objects for
readers and type checkers. The copied code stays as LiteLLM wrote it (hence ``fmt: off``).
"""

# ruff: noqa: ANN001, ANN202, E501, E265, E266

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Final

import litellm


def methods(run_logging: Callable[[Any, Any], Any]) -> dict[str, Callable[..., Any]]:
    # fmt: off
    def run_success_logging_and_cache_storage(self, processed_chunk, cache_hit: bool):
        """
        Runs success logging in a thread and adds the response to the cache
        """
        if litellm.disable_streaming_logging is True:
            """
            [NOT RECOMMENDED]
            Set this via `litellm.disable_streaming_logging = True`.

            Disables streaming logging.
            """
            return
        ## ASYNC LOGGING
        # Create an event loop for the new thread
        if self.logging_loop is not None:
            future: Final = asyncio.run_coroutine_threadsafe(
                self.logging_obj.async_success_handler(processed_chunk, None, None, cache_hit),
                loop=self.logging_loop,
            )
            future.result()
        else:
            run_logging(self, self.logging_obj.async_success_handler(processed_chunk, None, None, cache_hit))
        ## SYNC LOGGING — only for sync SDK entrypoints; async proxy paths export via async_success_handler
        litellm_params: Final[Mapping[str, object]] = self.logging_obj.model_call_details.get("litellm_params", {})
        if self.logging_obj.is_sync_litellm_request(litellm_params):
            self.logging_obj.success_handler(processed_chunk, None, None, cache_hit)
    # fmt: on

    return {"run_success_logging_and_cache_storage": run_success_logging_and_cache_storage}
