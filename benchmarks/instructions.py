"""What each accelerator removes, in instructions per call: counted by valgrind, not timed.

    .venv/bin/python benchmarks/instructions.py [--calls 200] [--jobs 2] [--stream] [--accel NAME]

Timing a 2-5 % change on a shared 2-core VM does not work: interleaved blocks of the same
configuration differ by 10-20 % (benchmarks/accel.py shows it). Instructions retired do not
depend on the neighbours. Each configuration runs in a process of its own under
``valgrind --tool=callgrind`` (Debian's ``valgrind`` package), with counting off while Python
imports LiteLLM and warms up (20 calls), on for ``--calls`` sync calls and until LiteLLM's
logging pool has finished them (every thread is counted), then off again. Repeat runs agree to
~0.1 %, on an idle machine or a loaded one. The upstream is the project's mock, in a process of its own (not counted).

Configurations, per route (transparent ``openai/...`` and ``edgequake/openai/...``): every
accelerator on (the default), every one off, and each one off with the others on (what it
removes given the others); ``--accel NAME``: only every accelerator on and ``NAME`` off.
``--stream``: sync streams of 100 chunks instead, per stream. Instructions are not time (a
cache miss costs more than an add), but a Python-level change that removes instructions
removes CPU in the same proportion to within the noise timing has.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROUTES = {"transparent": "openai/gpt-4o-mini", "edgequake/": "edgequake/openai/gpt-4o-mini"}
WARMUP = 20
STREAM_CHUNKS = 100


def child(model: str, base: str, calls: int, stream: bool) -> None:
    """Under valgrind: warm up, say READY, wait for GO on stdin, make the calls, say DONE."""
    import litellm

    import edgequake_litellm

    sys.path.insert(0, str(Path(__file__).parent))
    from accel import MSGS, drain_logging

    litellm.suppress_debug_info = True
    edgequake_litellm.install(patch=True)  # accelerators per EDGEQUAKE_ACCEL/_DISABLE

    def one() -> None:
        if stream:
            for _chunk in litellm.completion(
                model=model, messages=MSGS, api_base=base, api_key="sk-bench", stream=True
            ):
                pass
        else:
            litellm.completion(model=model, messages=MSGS, api_base=base, api_key="sk-bench")

    for _ in range(WARMUP):
        one()
    drain_logging(1.0)  # LiteLLM's logging threads finish the warm-up outside the count
    print("READY", flush=True)
    sys.stdin.readline()
    for _ in range(calls):
        one()
    drain_logging(1.0)  # and the counted calls' logging inside it
    print("DONE", flush=True)
    sys.stdin.readline()


def count(env: dict[str, str], model: str, base: str, calls: int, stream: bool, workdir: Path) -> float:
    """Instructions per call for one configuration (``env``: the accelerator switches)."""
    out = Path(tempfile.mkstemp(dir=workdir, suffix=".callgrind")[1])
    argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}"]
    argv += [sys.executable, __file__, "--child", model, base, str(calls)] + (["--stream"] if stream else [])
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )
    assert proc.stdin is not None and proc.stdout is not None

    def expect(word: str) -> None:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if line.strip() != word:
            proc.kill()
            raise RuntimeError(f"child said {line!r}, expected {word}")

    def instrument(on: bool) -> None:
        subprocess.run(
            ["callgrind_control", "-i", "on" if on else "off", str(proc.pid)], check=True, capture_output=True
        )

    expect("READY")
    instrument(True)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    expect("DONE")
    instrument(False)
    proc.stdin.write("exit\n")
    proc.stdin.flush()
    proc.wait()
    m = re.search(r"^totals: (\d+)", out.read_text(), re.M)
    if m is None:
        raise RuntimeError(f"no totals in {out}")
    return int(m.group(1)) / calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2, help="valgrind runs at once (each uses one core)")
    ap.add_argument("--stream", action="store_true", help="sync streams of 100 chunks instead of calls")
    ap.add_argument("--accel", help="only every accelerator on, and without this one (not all off)")
    ap.add_argument("--child", nargs=3, metavar=("MODEL", "BASE", "CALLS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        model, base, calls = args.child
        child(model, base, int(calls), args.stream)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("needs valgrind (Debian: apt-get install valgrind)")

    sys.path.insert(0, str(Path(__file__).parent))
    from accel import _stream_base, _upstream

    from edgequake_litellm import accel

    names = list(accel.registry())
    configs = {"all on": {"EDGEQUAKE_ACCEL": "1", "EDGEQUAKE_ACCEL_DISABLE": ""}}
    configs["all off"] = {"EDGEQUAKE_ACCEL": "0", "EDGEQUAKE_ACCEL_DISABLE": ""}
    configs.update({f"without {n}": {"EDGEQUAKE_ACCEL": "1", "EDGEQUAKE_ACCEL_DISABLE": n} for n in names})
    if args.accel:
        if args.accel not in names:
            sys.exit(f"unknown accelerator {args.accel!r}; known: {names}")
        configs = {k: v for k, v in configs.items() if k in ("all on", f"without {args.accel}")}
    proc, base = _upstream()
    try:
        if args.stream:
            base = _stream_base(base, STREAM_CHUNKS)
        with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
            jobs = {
                (route, name): pool.submit(count, env, model, base, args.calls, args.stream, Path(tmp))
                for route, model in ROUTES.items()
                for name, env in configs.items()
            }
            got = {key: job.result() for key, job in jobs.items()}
    finally:
        proc.terminate()
        proc.wait()
    unit = "stream of 100 chunks" if args.stream else "sync call"
    print(f"Instructions per {unit} (valgrind callgrind, {args.calls} counted, every thread):\n")
    print("| route | configuration | M instructions | vs all on | what the accelerator removes |")
    print("|---|---|---:|---:|---:|")
    for route in ROUTES:
        on = got[(route, "all on")]
        off = got.get((route, "all off"))
        for name in configs:
            n = got[(route, name)]
            removed = ""
            if name.startswith("without"):
                removed = (
                    f"{(n - on) / off * 100:+.1f} % of all off" if off else f"{(n - on) / n * 100:+.1f} % of it off"
                )
            print(f"| {route} | {name} | {n / 1e6:.3f} | {n / on:.3f}x | {removed} |")


if __name__ == "__main__":
    main()
