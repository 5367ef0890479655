"""Test servers: the mock upstream with the Anthropic Messages API (``anthropic.py``) and Google
AI Studio (``gemini.py``) served besides OpenAI's. The user-facing, OpenAI-compatible mock
upstream is ``edgequake_litellm.mock_upstream``; these build on its primitives."""

from __future__ import annotations

import threading
from typing import Any

from .. import mock_upstream
from . import anthropic, gemini


class MockUpstream(mock_upstream.MockUpstream):
    """``edgequake_litellm.mock_upstream.MockUpstream`` serving Anthropic's and Gemini's APIs too."""

    wire_formats: dict[str, Any] = {"messages": anthropic, "gemini": gemini}  # noqa: RUF012 - read-only


def drain_litellm_logging(executor: Any = None) -> None:
    """Return once every task queued on LiteLLM's logging executor (where its sync success
    callbacks run), or on ``executor``, has finished: the queue is first in, first out, and one
    barrier task per worker can only all be running when no worker is busy with anything queued
    before them. A LiteLLM without that executor has nothing to drain."""
    if executor is None:
        try:
            from litellm.litellm_core_utils.thread_pool_executor import executor
        except ImportError:
            return
    workers = executor._max_workers
    barrier = threading.Barrier(workers + 1, timeout=60)
    futures = [_submit_when_room(executor, barrier.wait) for _ in range(workers)]
    barrier.wait()
    for f in futures:
        f.result(timeout=60)


def _submit_when_room(executor: Any, task: Any) -> Any:
    """Submit ``task``, waiting for a free slot when the executor is LiteLLM's bounded pool: a full
    one drops the submission (a cancelled future), and a dropped barrier task would never arrive."""
    while True:
        future = executor.submit(task)
        if not future.cancelled():
            return future
        slots = executor._pending_slots  # only a bounded pool drops
        if not slots.acquire(timeout=60):
            raise TimeoutError("LiteLLM's logging pool stayed full for 60 s")
        slots.release()  # a slot has come free; another submitter may still take it first
