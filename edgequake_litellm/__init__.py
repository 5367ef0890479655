"""edgequake-litellm: a Rust engine for LiteLLM.

``install()`` registers the ``edgequake`` provider in LiteLLM, so
``litellm.completion(model="edgequake/openai/gpt-4o", ...)`` is served by the Rust core
with LiteLLM's Router, callbacks, cost tracking and caching unchanged.

Importing this package does not import LiteLLM; ``install()`` and ``handler`` do.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Any

from ._core import __version__, _at_exit
from ._install import PROVIDER, install, is_installed, uninstall

if TYPE_CHECKING:
    from ._handler import EdgequakeLLM

    handler: EdgequakeLLM

# Results of calls still in flight at exit have nobody to go to; the core drops them.
atexit.register(_at_exit)

__all__ = ["PROVIDER", "__version__", "handler", "install", "is_installed", "uninstall"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import edgequake_litellm` stays cheap; the LiteLLM proxy resolves
    # `custom_handler: edgequake_litellm.handler` through this.
    if name == "handler":
        from ._handler import handler

        return handler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
