"""The release workflow parses and builds what the project promises: abi3 wheels for Linux
(x86_64/aarch64, glibc and musl), macOS (x86_64/arm64), Windows, and the sdist."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "release.yml"


def test_release_workflow_targets():
    wf = yaml.safe_load(WORKFLOW.read_text())
    jobs = wf["jobs"]
    linux = jobs["linux"]["strategy"]["matrix"]
    assert set(linux["target"]) == {"x86_64", "aarch64"}
    assert set(linux["manylinux"]) == {"manylinux2014", "musllinux_1_2"}
    assert {m["target"] for m in jobs["macos"]["strategy"]["matrix"]["include"]} == {"x86_64", "aarch64"}
    assert any(s.get("with", {}).get("target") == "x64" for s in jobs["windows"]["steps"])
    assert any(s.get("with", {}).get("command") == "sdist" for s in jobs["sdist"]["steps"])
    assert set(jobs["publish"]["needs"]) == {"linux", "macos", "windows", "sdist"}
    for name in ("linux", "macos", "windows"):
        builds = [s for s in jobs[name]["steps"] if str(s.get("uses", "")).startswith("PyO3/maturin-action")]
        assert builds and "--release" in builds[0]["with"]["args"], name
