"""A LiteLLM custom provider whose call costs (almost) nothing: the ceiling for any provider.

A proxy route served by ``free_provider.handler`` answers every chat completion with nginx's
canned reply (``FREE_PROVIDER_BODY``, a file path), built into a ``ModelResponse`` and already
priced, without a request, a pre- or post-call log or a price lookup. Whatever the proxy then
spends per request is LiteLLM's own: ``proxy_accel.py --routes native,edgequake,free,free+accel``
measures how far any provider implementation could take the proxy's requests/s, without and
(``FREE_PROVIDER_ACCEL=1``) with this plugin's accelerators, installed as a proxy worker installs them.

``FREE_PROVIDER_IO=1`` adds what no real provider can avoid: one request to the deployment's
``api_base`` through the core (``_core.arequest``), its reply built into the answer as above.
That bounds any provider which waits on the network, as ours do; the route without it never
waits, so it finishes each call in one pass of the event loop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import ModelResponse

_BODY: dict[str, Any] = json.loads(Path(os.environ["FREE_PROVIDER_BODY"]).read_bytes())
_COST = 5.1e-06  # any float: LiteLLM keeps a stamped cost instead of pricing the response
_IO = os.environ.get("FREE_PROVIDER_IO") == "1"


def _reply(body: dict[str, Any] = _BODY) -> ModelResponse:
    response = ModelResponse(**body)
    response._hidden_params["response_cost"] = _COST
    return response


class FreeLLM(CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return _reply()

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        if not _IO:
            return _reply()
        from edgequake_litellm import _core

        base, key = kwargs["api_base"], kwargs["api_key"]
        body, _, _ = await _core.arequest(
            "chat", "openai", kwargs["model"], kwargs["messages"], {}, api_key=key, api_base=base
        )
        return _reply(body)


handler = FreeLLM()
if os.environ.get("FREE_PROVIDER_ACCEL") == "1":
    from edgequake_litellm import accel

    accel.install_default()
