"""edgequake-litellm: a Rust engine for LiteLLM.

``install()`` registers the ``edgequake`` provider in LiteLLM, so
``litellm.completion(model="edgequake/openai/gpt-4o", ...)`` is served by the Rust core
with LiteLLM's Router, callbacks, cost tracking and caching unchanged.

``install(patch=True)`` also serves LiteLLM's own calls (``openai/gpt-4o``, ...) from the
core where it can do so exactly (transparent mode); ``status()`` shows the route calls took.

``completion``/``acompletion``/``embedding``/``aembedding`` are LiteLLM's API served straight
from the core, without LiteLLM's wrapper (no callbacks, cache or Router) for the lowest overhead.

Importing this package does not import LiteLLM; ``install()``, ``handler`` and the direct API do.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Any

from ._core import __version__, _at_exit
from ._install import PROVIDER, install, is_installed, status, uninstall

if TYPE_CHECKING:
    from litellm import stream_chunk_builder

    from ._direct import acompletion, aembedding, completion, embedding
    from ._handler import EdgequakeLLM

    handler: EdgequakeLLM
    transparent: EdgequakeLLM

# The direct API (LiteLLM's signatures, served without LiteLLM's wrapper), loaded on first use.
_DIRECT = ("completion", "acompletion", "embedding", "aembedding")

# Results of calls still in flight at exit have nobody to go to; the core drops them.
atexit.register(_at_exit)

__all__ = [
    "PROVIDER",
    "__version__",
    "acompletion",
    "aembedding",
    "completion",
    "embedding",
    "handler",
    "install",
    "is_installed",
    "status",
    "stream_chunk_builder",
    "uninstall",
]


def __getattr__(name: str) -> Any:
    # Lazy, so `import edgequake_litellm` stays cheap; the LiteLLM proxy resolves
    # `custom_handler: edgequake_litellm.handler` through this.
    if name in ("handler", "transparent"):
        from ._install import proxy_handler

        return proxy_handler(transparent=name == "transparent")
    if name in _DIRECT:
        from . import _direct

        return getattr(_direct, name)
    if name == "stream_chunk_builder":
        from litellm import stream_chunk_builder

        return stream_chunk_builder
    if name[:1].isupper():
        # LiteLLM's exception classes, so `except edgequake_litellm.RateLimitError` works.
        import litellm.exceptions

        exc = getattr(litellm.exceptions, name, None)
        if isinstance(exc, type) and issubclass(exc, BaseException):
            return exc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
