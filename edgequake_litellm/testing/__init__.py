"""Test servers: the mock upstream with the Anthropic Messages API (``anthropic.py``) and Google
AI Studio (``gemini.py``) served besides OpenAI's. The user-facing, OpenAI-compatible mock
upstream is ``edgequake_litellm.mock_upstream``; these build on its primitives."""

from __future__ import annotations

from typing import Any

from .. import mock_upstream
from . import anthropic, gemini


class MockUpstream(mock_upstream.MockUpstream):
    """``edgequake_litellm.mock_upstream.MockUpstream`` serving Anthropic's and Gemini's APIs too."""

    wire_formats: dict[str, Any] = {"messages": anthropic, "gemini": gemini}  # noqa: RUF012 - read-only
