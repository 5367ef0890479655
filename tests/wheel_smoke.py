"""Run inside a clean virtual environment where only the built wheel (and its dependencies)
is installed: the package imports from site-packages and serves calls, in every mode. Used by
`make test-wheel` and `make test-sdist`."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def main() -> int:
    import edgequake_litellm

    assert "site-packages" in edgequake_litellm.__file__, edgequake_litellm.__file__
    import litellm

    from edgequake_litellm.mock_upstream import MockUpstream

    litellm.suppress_debug_info = True
    edgequake_litellm.install()
    with MockUpstream() as up:
        kw = {"messages": [{"role": "user", "content": "wheel"}], "api_key": "sk-wheel", "api_base": up.base_url()}
        plugin = litellm.completion(model="edgequake/openai/gpt-4o-mini", **kw)
        direct = edgequake_litellm.completion(model="openai/gpt-4o-mini", **kw)
        streamed = "".join(
            c.choices[0].delta.content or ""
            for c in litellm.completion(model="edgequake/openai/gpt-4o-mini", stream=True, **kw)
        )
        edgequake_litellm.install(patch=True)
        transparent = litellm.completion(model="openai/gpt-4o-mini", **kw)
        assert edgequake_litellm.status()["served_by_rust"] == 1, edgequake_litellm.status()
    assert plugin.choices[0].message.content == direct.choices[0].message.content == streamed == "Echo: wheel"
    assert transparent.choices[0].message.content == "Echo: wheel"
    print(f"wheel smoke OK: edgequake-litellm {edgequake_litellm.__version__} from {edgequake_litellm.__file__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
