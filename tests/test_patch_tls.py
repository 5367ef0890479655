# ruff: noqa: F811
"""TLS in transparent mode: every certificate case of ``test_tls.py`` gives the same outcome
unpatched and patched, on both tiers (the OpenAI SDK tier and the generic HTTP tier), and the
patched calls are served by the core."""

from __future__ import annotations

import pytest

import edgequake_litellm

from .conftest import KEY
from .test_patch import patched

# test_tls.py's fixtures, imported so pytest finds them here (hence the names they shadow).
from .test_tls import CASES, _apply, front, front_localhost_only, loop, pki, tls_settings  # noqa: F401

MSGS = [{"role": "user", "content": "over tls"}]


def _outcome(litellm, model: str, base: str):  # noqa: ANN001
    try:
        r = litellm.completion(model=model, messages=MSGS, api_key=KEY, api_base=base, timeout=5, max_retries=0)
    except Exception as e:  # noqa: BLE001 - the exception class is the outcome compared
        return ("error", type(e).__name__)
    return ("ok", r.choices[0].message.content)


@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "mistral/mistral-small-latest"], ids=["sdk_tier", "http_tier"])
@pytest.mark.parametrize(("verify", "env", "which", "host", "ok"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_tls_patched_like_unpatched(
    litellm, tls_settings, pki, front, front_localhost_only, model, verify, env, which, host, ok
):
    _apply(tls_settings, litellm, pki, verify, env)
    base = (front if which == "both" else front_localhost_only).base_url(host)
    native = _outcome(litellm, model, base)
    assert (native[0] == "ok") == ok, native  # the case describes LiteLLM correctly
    litellm.in_memory_llm_clients_cache.flush_cache()
    before = edgequake_litellm.status()["served_by_rust"]
    with patched():
        ours = _outcome(litellm, model, base)
    assert edgequake_litellm.status()["served_by_rust"] == before + 1, edgequake_litellm.status()["calls"]
    assert ours == native
