"""The documented API surface: README/docs Python blocks compile, and their calls work.

README's Python blocks run as written (as a script: no top-level ``await``), with the
environment README gives for trying them locally (``OPENAI_BASE_URL``/``OPENAI_API_KEY`` at the
mock upstream). The docs' blocks, written for an async REPL, are compiled, and the tests below
repeat their statements against the mock upstream.
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


README_BLOCKS = [(name, src) for name, src in BLOCKS if name.startswith("README.md#")]


@pytest.mark.parametrize(("name", "src"), BLOCKS, ids=[name for name, _ in BLOCKS])
def test_python_block_compiles(name, src):
    # README's blocks are scripts; the docs' use top-level `await` (as in an async REPL or notebook).
    flags = 0 if name.startswith("README.md#") else ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    compile(src, name, "exec", flags=flags)


def test_readme_env_block_is_what_the_test_sets():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python -m edgequake_litellm mock-upstream --port 8099 &" in text
    assert "export OPENAI_BASE_URL=http://127.0.0.1:8099/v1 OPENAI_API_KEY=sk-local" in text


def _run_readme_block(index: int, mock, monkeypatch, capsys) -> str:
    monkeypatch.setenv("OPENAI_BASE_URL", mock.base_url())
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    name, src = README_BLOCKS[index]
    try:
        exec(compile(src, name, "exec"), {"__name__": "__readme__"})  # noqa: S102 - the README, as written
    finally:
        edgequake_litellm.install()  # the session's edgequake provider, whatever the block undid
    return capsys.readouterr().out


def test_readme_quick_start_runs_as_written(litellm, mock, monkeypatch, capsys):
    out = _run_readme_block(0, mock, monkeypatch, capsys)
    assert "Echo: hi" in out and "2 embeddings" in out, out
    reqs = mock.requests()
    assert [r["path"] for r in reqs] == ["/v1/chat/completions"] * 3 + ["/v1/embeddings"]
    assert {r["headers"]["authorization"] for r in reqs} == {"Bearer sk-local"}


def test_readme_transparent_mode_runs_as_written(litellm, mock, monkeypatch, capsys):
    before = edgequake_litellm.status()["served_by_rust"]
    out = _run_readme_block(1, mock, monkeypatch, capsys)
    # The block prints the counts: its own call is the one added to them.
    printed = re.search(r"'served_by_rust': (\d+)", out)
    assert printed is not None and int(printed.group(1)) == before + 1, out
    assert [r["path"] for r in mock.requests()] == ["/v1/chat/completions"]
    assert not edgequake_litellm.status()["patched"]


def test_readme_quick_start_against_the_mock(litellm, mock):
    """The same calls with per-call ``api_key``/``api_base``, as the docs' blocks make them."""
    common = {"api_key": KEY, "api_base": mock.base_url()}
    edgequake_litellm.install()  # idempotent
    edgequake_litellm.install()
    assert edgequake_litellm.is_installed()

    r = litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=MSGS, **common)
    assert r.choices[0].message.content
    assert r._hidden_params["response_cost"] > 0

    chunks = list(litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=MSGS, stream=True, **common))
    assert "".join(c.choices[0].delta.content or "" for c in chunks)

    e = litellm.embedding(model="edgequake/openai/text-embedding-3-small", input=["a", "b"], **common)
    assert len(e.data) == 2 and e.data[0]["embedding"]


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
