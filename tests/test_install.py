"""install()/uninstall(): idempotent, thread-safe, reversible, and other custom providers untouched."""

from __future__ import annotations

import threading

import pytest

import edgequake_litellm

from .conftest import KEY


class _Other:  # a stand-in for someone else's custom provider entry
    pass


@pytest.fixture()
def clean(litellm):
    saved = (list(litellm.custom_provider_map), list(litellm._custom_providers), list(litellm.provider_list))
    yield litellm
    litellm.custom_provider_map, litellm._custom_providers[:], litellm.provider_list[:] = (
        saved[0],
        saved[1],
        saved[2],
    )
    edgequake_litellm.install()


def test_install_is_idempotent_and_keeps_other_providers(clean):
    litellm = clean
    other = {"provider": "someone-else", "custom_handler": _Other()}
    litellm.custom_provider_map = [other]
    for _ in range(3):
        edgequake_litellm.install()
    providers = [e["provider"] for e in litellm.custom_provider_map]
    assert providers == ["someone-else", "edgequake"]
    assert edgequake_litellm.is_installed()
    assert "edgequake" in litellm._custom_providers


def test_uninstall_restores_and_edgequake_models_fail_like_unknown(clean, mock):
    litellm = clean
    edgequake_litellm.install()
    edgequake_litellm.uninstall()
    edgequake_litellm.uninstall()  # idempotent
    assert not edgequake_litellm.is_installed()
    assert "edgequake" not in litellm._custom_providers
    assert "edgequake" not in litellm.provider_list
    with pytest.raises(litellm.exceptions.BadRequestError):
        litellm.completion(
            model="edgequake/openai/gpt-4o-mini",
            messages=[{"role": "user", "content": "hi"}],
            api_key=KEY,
            api_base=mock.base_url(),
        )
    assert mock.requests() == []


def test_install_from_many_threads(clean):
    litellm = clean
    edgequake_litellm.uninstall()
    threads = [threading.Thread(target=edgequake_litellm.install) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [e["provider"] for e in litellm.custom_provider_map].count("edgequake") == 1


def test_handler_is_the_registered_instance(clean):
    edgequake_litellm.install()
    entry = next(e for e in clean.custom_provider_map if e["provider"] == "edgequake")
    assert entry["custom_handler"] is edgequake_litellm.handler
