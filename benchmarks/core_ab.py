"""Two builds of the Rust core against each other: async throughput at 64 in flight, or a sync
stream's time to first chunk.

    .venv/bin/python benchmarks/core_ab.py --base <git rev> [--pairs 6] [--calls 1024] [--measure ttfc]

A change inside the core (how results reach asyncio, say) has no switch to flip in one
process, so each build runs in processes of its own, alternating A/B, B/A over ``--pairs``
pairs on one nginx upstream (canned bodies, no Python on the other side). Build A is the tree
at ``--base`` (compiled once into a cache under ~/.cache/edgequake-litellm/core-ab), build B is
this checkout's installed core. Each process warms up, then times three blocks of ``--calls``
``acompletion`` calls at 64 in flight (``accel.async_block``: the process's CPU counts LiteLLM's
logging threads, drained before the clock stops); the median block counts. Printed per route (transparent
``openai/`` and ``edgequake/``): the median calls/s and process CPU per call of each build, and
in how many pairs B was faster. ``--measure ttfc``: each process times ``--calls`` sync streams
(100 chunks, read back to back as ``compare.py`` reads them) from ``completion(stream=True)`` to
the first chunk; the median wall time and calling-thread CPU count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.upstream import Nginx, log  # noqa: E402

CACHE = Path.home() / ".cache" / "edgequake-litellm" / "core-ab"

# Runs with this build's package first on its path; ``accel`` comes from this checkout's benchmarks.
CHILD = r"""
import json, os, statistics, sys
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
pkg, base, route, calls, bench = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
sys.path.append(bench)
import litellm, edgequake_litellm
from accel import async_block
assert edgequake_litellm.__file__.startswith(pkg), edgequake_litellm.__file__
litellm.suppress_debug_info = True
edgequake_litellm.install(patch=route == "transparent")
model = "openai/gpt-4o-mini" if route == "transparent" else "edgequake/openai/gpt-4o-mini"
async_block(litellm, model, base, 256)
out = [async_block(litellm, model, base, calls) for _ in range(3)]
print(json.dumps([statistics.median(x[0] for x in out), statistics.median(x[1] for x in out)]))
"""


# The same for a stream's start: median ms of wall time and thread CPU to the first chunk.
CHILD_TTFC = r"""
import json, os, statistics, sys, time
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
pkg, base, route, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
import litellm, edgequake_litellm
assert edgequake_litellm.__file__.startswith(pkg), edgequake_litellm.__file__
litellm.suppress_debug_info = True
edgequake_litellm.install(patch=route == "transparent")
model = "openai/gpt-4o-mini" if route == "transparent" else "edgequake/openai/gpt-4o-mini"
msgs = [{"role": "user", "content": "hi"}]

def first(n):
    out = []
    for _ in range(n):
        w, c = time.perf_counter(), time.thread_time()
        it = iter(litellm.completion(model=model, messages=msgs, api_base=base, api_key="sk-bench", stream=True))
        next(it)
        out.append(((time.perf_counter() - w) * 1e3, (time.thread_time() - c) * 1e3))
        for _chunk in it:
            pass
    return out

first(50)
out = first(calls)
print(json.dumps([statistics.median(x[0] for x in out), statistics.median(x[1] for x in out)]))
"""


def _package_with(core: Path, into: Path) -> Path:
    """A copy of this checkout's Python package with ``core`` as its ``_core``."""
    pkg = into / "edgequake_litellm"
    shutil.copytree(ROOT / "edgequake_litellm", pkg, ignore=shutil.ignore_patterns("__pycache__", "_core*.so"))
    shutil.copy2(core, pkg / "_core.abi3.so")
    return into


def _build_base(rev: str) -> Path:
    """The core compiled from ``rev`` (cached by commit)."""
    commit = subprocess.check_output(["git", "-C", str(ROOT), "rev-parse", rev], text=True).strip()
    out = CACHE / f"{commit}.so"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.check_call(["git", "-C", str(ROOT), "worktree", "add", "--detach", tmp, commit])
        try:
            log(f"building the core at {commit[:10]} (once)")
            env = dict(os.environ, CARGO_TARGET_DIR=str(CACHE / "target"))
            wheels = Path(tmp) / "wheels"
            maturin = [sys.executable, "-m", "maturin", "build", "--release", "--quiet", "--out", str(wheels)]
            subprocess.check_call(maturin, cwd=tmp, env=env)
            (wheel,) = wheels.glob("*.whl")
            with zipfile.ZipFile(wheel) as zf:
                (name,) = (n for n in zf.namelist() if n.startswith("edgequake_litellm/_core") and n.endswith(".so"))
                out.write_bytes(zf.read(name))
        finally:
            subprocess.call(["git", "-C", str(ROOT), "worktree", "remove", "--force", tmp])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="git revision of build A")
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--calls", type=int, default=1024)
    ap.add_argument("--routes", default="transparent,edgequake")
    ap.add_argument("--measure", choices=("tput", "ttfc"), default="tput")
    args = ap.parse_args()
    ttfc = args.measure == "ttfc"
    import edgequake_litellm._core as installed

    cores = {"A": _build_base(args.base), "B": Path(installed.__file__)}
    with tempfile.TemporaryDirectory() as tmp, Nginx() as nginx:
        pkgs = {name: str(_package_with(core, Path(tmp) / name)) for name, core in cores.items()}
        for route in args.routes.split(","):
            res: dict[str, list[tuple[float, float]]] = {"A": [], "B": []}
            for p in range(args.pairs):
                for name in ("A", "B") if p % 2 == 0 else ("B", "A"):
                    env = dict(os.environ, PYTHONPATH=pkgs[name])
                    cmd = [
                        sys.executable,
                        "-c",
                        CHILD_TTFC if ttfc else CHILD,
                        pkgs[name],
                        nginx.base_url("stream" if ttfc else "json"),
                        route,
                        str(args.calls),
                        str(ROOT / "benchmarks"),
                    ]
                    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp, check=False)
                    if done.returncode:
                        sys.exit(done.stderr[-3000:])
                    rate, cpu = json.loads(done.stdout.strip().splitlines()[-1])
                    res[name].append((rate, cpu))
                    what = "ms to the first chunk" if ttfc else "calls/s"
                    log(f"{route} pair {p} {name}: {rate:.3f} {what}, {cpu:.3f} ms CPU per call")
            wins = sum((b[0] < a[0]) if ttfc else (b[0] > a[0]) for a, b in zip(res["A"], res["B"]))
            rates = {n: statistics.median(x[0] for x in v) for n, v in res.items()}
            cpus = {n: statistics.median(x[1] for x in v) for n, v in res.items()}
            if ttfc:
                print(
                    f"{route}: time to first chunk A ({args.base}) {rates['A']:.3f} ms, {cpus['A']:.3f} ms CPU; "
                    f"B (this tree) {rates['B']:.3f} ms, {cpus['B']:.3f} ms CPU; "
                    f"B/A {rates['B'] / rates['A']:.3f}x; B faster in {wins} of {args.pairs} pairs"
                )
                continue
            print(
                f"{route}: A ({args.base}) {rates['A']:.0f} calls/s, {cpus['A']:.3f} ms CPU/call; "
                f"B (this tree) {rates['B']:.0f} calls/s, {cpus['B']:.3f} ms CPU/call; "
                f"B/A {rates['B'] / rates['A']:.3f}x; B faster in {wins} of {args.pairs} pairs"
            )


if __name__ == "__main__":
    main()
