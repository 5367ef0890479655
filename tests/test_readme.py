"""The documented API surface: README/docs Python blocks compile, and their calls work.

The README's quick start uses ``...`` placeholders and real provider names, so it is not executed
as is: every block is compiled, and the tests below repeat its statements with a real message list
and ``api_base``/``api_key`` pointing at the local mock upstream.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import edgequake_litellm

from .conftest import KEY

ROOT = Path(__file__).resolve().parent.parent
MSGS = [{"role": "user", "content": "hi"}]
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def _python_blocks(*names: str) -> list[tuple[str, str]]:
    blocks = []
    for name in names:
        text = (ROOT / name).read_text(encoding="utf-8")
        blocks += [(f"{name}#{i}", src) for i, src in enumerate(_BLOCK.findall(text))]
    return blocks


BLOCKS = _python_blocks("README.md", "docs/direct-api.md", "docs/getting-started.md", "docs/plugin-modes.md")


def test_readme_has_python_blocks():
    assert any(name.startswith("README.md#") for name, _ in BLOCKS)


@pytest.mark.parametrize(("name", "src"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_python_block_compiles(name, src):
    # The examples use top-level `await` (as in an async REPL or notebook).
    compile(src, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


async def test_readme_quick_start(litellm, mock):
    common = {"api_key": KEY, "api_base": mock.base_url()}
    edgequake_litellm.install()  # idempotent
    edgequake_litellm.install()
    assert edgequake_litellm.is_installed()

    r = litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=MSGS, **common)
    assert r.choices[0].message.content
    assert r._hidden_params["response_cost"] > 0

    chunks = list(litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=MSGS, stream=True, **common))
    assert "".join(c.choices[0].delta.content or "" for c in chunks)

    r = await litellm.acompletion(model="edgequake/groq/llama-3.1-8b-instant", messages=MSGS, **common)
    assert r.choices[0].message.content

    e = litellm.embedding(model="edgequake/openai/text-embedding-3-small", input=["a", "b"], **common)
    assert len(e.data) == 2 and e.data[0]["embedding"]

    paths = [req["path"] for req in mock.requests()]
    assert paths == ["/v1/chat/completions"] * 3 + ["/v1/embeddings"]


async def test_direct_api_block(mock):
    import edgequake_litellm as litellm  # the spelling docs/direct-api.md documents

    common = {"api_key": KEY, "api_base": mock.base_url()}
    r = litellm.completion(model="openai/gpt-4o-mini", messages=MSGS, **common)
    assert r.choices[0].message.content

    chunks = list(litellm.completion(model="groq/llama-3.1-8b-instant", messages=MSGS, stream=True, **common))
    assert chunks

    r = await litellm.acompletion(model="openai/gpt-4o-mini", messages=MSGS, **common)
    assert r.choices[0].message.content

    e = litellm.embedding(model="openai/text-embedding-3-small", input=["a", "b"], dimensions=256, **common)
    assert len(e.data) == 2

    full = litellm.stream_chunk_builder(chunks, messages=MSGS)
    assert full.choices[0].message.content == "".join(c.choices[0].delta.content or "" for c in chunks)


def test_readme_transparent_mode(litellm, mock):
    """README's transparent-mode block, against the mock upstream."""
    common = {"api_key": KEY, "api_base": mock.base_url()}
    edgequake_litellm.install(patch=True)
    try:
        r = litellm.completion(model="openai/gpt-4o-mini", messages=MSGS, **common)
        assert r.choices[0].message.content
        status = edgequake_litellm.status()
        assert status["patched"] and status["served_by_rust"] >= 1
    finally:
        edgequake_litellm.uninstall()
        edgequake_litellm.install()  # the session's edgequake provider
    assert not edgequake_litellm.status()["patched"]
