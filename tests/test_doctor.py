"""``python -m edgequake_litellm doctor`` end to end, in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from edgequake_litellm._doctor import _in_range, _litellm_requirement


def test_doctor_runs_and_passes():
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    proc = subprocess.run(
        [sys.executable, "-m", "edgequake_litellm", "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    import edgequake_litellm

    assert f"edgequake-litellm  {edgequake_litellm.__version__}" in out
    for needle in (
        "compiled core",
        "python ",
        "litellm            ",
        "supported litellm",
        "installed version is inside",
        "transparent mode   can be installed on this LiteLLM",
        "providers",
        "openai ",
        "groq ",
        "all checks OK",
    ):
        assert needle in out, (needle, out)
    assert "FAIL" not in out
    assert out.count("  OK   ") == 5, out


def test_litellm_requirement_matches_pyproject():
    spec = _litellm_requirement()
    assert spec is not None
    assert ">=1.109.0" in spec and "<1.111" in spec


@pytest.mark.parametrize(
    ("version", "expected"),
    [("1.110.2", True), ("1.110.9", True), ("1.111.0", False), ("1.109.0", False), ("1.107.3", False)],
)
def test_in_range(version, expected):
    assert _in_range(version, ">=1.110.2,<1.111,!=1.107.*") is expected


def test_provider_table_columns_never_run_together(capsys):
    """Every cell starts at its header's column and leaves a space before the next one."""
    from edgequake_litellm._doctor import _providers

    _providers()
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    header = lines[0]
    starts = [header.index(h) for h in ("name", "body", "auth", "chat", "embeddings")]
    assert len(lines) > 10
    for line in lines:
        cells = [line[a:b] for a, b in zip(starts, starts[1:] + [len(line)])]
        assert all(c[:1] != " " and c.strip() for c in cells), line  # each starts at its column
        assert all(c.endswith(" ") for c in cells[:-1]), line  # and ends before the next
