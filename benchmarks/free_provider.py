"""A LiteLLM custom provider whose call costs (almost) nothing: the ceiling for any provider.

A proxy route served by ``free_provider.handler`` answers every chat completion with nginx's
canned reply (``FREE_PROVIDER_BODY``, a file path), built into a ``ModelResponse`` and already
priced, without a request, a pre- or post-call log or a price lookup. Whatever the proxy then
spends per request is LiteLLM's own: ``proxy_accel.py --routes native,edgequake,free,free+accel``
measures how far any provider implementation could take the proxy's requests/s, without and
(``FREE_PROVIDER_ACCEL=1``) with this plugin's accelerators, installed as a proxy worker installs them.
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


def _reply() -> ModelResponse:
    response = ModelResponse(**_BODY)
    response._hidden_params["response_cost"] = _COST
    return response


class FreeLLM(CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return _reply()

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return _reply()


handler = FreeLLM()
if os.environ.get("FREE_PROVIDER_ACCEL") == "1":
    from edgequake_litellm import accel

    accel.install_default()
