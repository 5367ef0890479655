"""``python -m edgequake_litellm``: help, unknown commands and the mock-upstream command, in a
fresh interpreter as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edgequake_litellm", *args], capture_output=True, text=True, timeout=60, env=ENV
    )


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_lists_every_command(flag):
    proc = _run(flag)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.startswith("usage: python -m edgequake_litellm")
    for command in ("demo", "doctor", "mock-upstream", "help"):
        assert f"\n  {command} " in proc.stdout, command


def test_unknown_command_exits_2_with_the_help_hint():
    proc = _run("serve")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "unknown command 'serve'" in proc.stderr
    assert "--help" in proc.stderr


def test_mock_upstream_command_serves_until_interrupted():
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgequake_litellm", "mock-upstream", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.removeprefix("listening on ")
        r = httpx.post(
            f"{url}/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": "Bearer sk-test"},
        )
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_demo_result_lines_align(litellm, capsys):
    """The demo's result lines put their values in one column, the streamed one included."""
    from edgequake_litellm._demo import run

    assert run(calls=2) == 0
    out = capsys.readouterr().out
    labelled = [
        ln
        for ln in out.splitlines()
        if ln.split(":", 1)[0].strip() in ("completion", "usage", "streaming", "tool call", "embedding")
    ]
    assert len(labelled) == 5, out
    columns = {len(ln) - len(ln.split(":", 1)[1].lstrip()) for ln in labelled}
    assert len(columns) == 1, out
    assert (
        "streaming:" in out and "Echo: What is the weather in Paris?" in out.split("streaming:", 1)[1].splitlines()[0]
    )
