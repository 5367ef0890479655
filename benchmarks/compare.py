"""edgequake-litellm against LiteLLM's native path and its peers, on one local nginx upstream.

    python benchmarks/compare.py [--quick] [--write docs/performance.md] [--no-proxy] [--profile N]

Starts nginx (see ``upstream.py``), checks its ceiling with wrk, then runs every contender in a
process of its own (``worker.py``) against it, interleaved: each round runs a block of every
contender in rotating order, so drift of the (shared) machine affects all of them alike.
Measures sync and async per-call latency, async throughput at 1, 64 and 512 in flight, 100-chunk
streams, a 10 MB answer, memory per in-flight call (1,000 calls on a slow upstream, a fresh
process per contender), import times, and a real LiteLLM proxy under load (``proxy_load.py``).
``--write`` regenerates docs/performance.md and its plot. ``--profile N`` only prints a cProfile
of N ``edgequake/`` sync calls.
"""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import argparse
import datetime
import importlib.util
import inspect
import json
import platform
import shlex
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import ms  # noqa: E402
from upstream import KEY, MESSAGES, MODEL, STREAM_CHUNKS, MockProcess, Nginx, ceiling, log  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
WORKER = BENCH / "worker.py"
LEGACY_VERSION = "0.10.4"
LEGACY_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "edgequake-litellm" / "bench-legacy-venv"
MEM_INFLIGHT = 1000
SLOW_DELAY = 3.0  # seconds the slow upstream waits before answering (memory test)

__all__ = ["KEY", "MESSAGES", "MODEL", "build_kind"]


@dataclass
class Contender:
    name: str
    label: str
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)
    unavailable: str = ""  # why it cannot run in this build / on this machine
    measures: tuple[str, ...] = ("sync", "async", "tput", "stream", "big", "mem")


# --------------------------------------------------------------------------- availability


def patch_mode() -> str:
    """'' when ``install(patch=True)`` exists in this build, else why not."""
    import edgequake_litellm

    if "patch" in inspect.signature(edgequake_litellm.install).parameters:
        return ""
    return "not available in this build (`install()` has no `patch` parameter yet)"


RUST_PROBE = """\
import json
from litellm.rust_bridge import catalog
from litellm.rust_bridge.configuration import Rollout
rules = [r for r in catalog.RULES if r.route is catalog.Route.CHAT_COMPLETIONS and r.rollout is not Rollout.PYTHON_ONLY]
print(json.dumps([str(r) for r in rules]))
"""


def litellm_rust() -> str:
    """'' when LiteLLM's own Rust path (``LITELLM_RUST=1``) can serve chat completions, else why not."""
    done = subprocess.run([sys.executable, "-c", RUST_PROBE], capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        return f"not available (LiteLLM has no rust_bridge catalog: {done.stderr.strip().splitlines()[-1:]})"
    if json.loads(done.stdout):
        return ""
    from importlib.metadata import version

    return (
        f"not available: LiteLLM {version('litellm')} routes chat completions `PYTHON_ONLY` "
        "(`litellm/rust_bridge/catalog.py`); only Anthropic `/v1/messages` is opt-in native"
    )


def legacy_python() -> tuple[str, str]:
    """(python of a venv with edgequake-litellm 0.10.4 from the registry, '' or why not)."""
    py = LEGACY_VENV / "bin" / "python"
    req = BENCH / "requirements-legacy.txt"
    stamp = LEGACY_VENV / ".installed"
    if stamp.exists() and stamp.read_text() == req.read_text():
        return str(py), ""
    log(f"creating {LEGACY_VENV} with edgequake-litellm {LEGACY_VERSION} from the registry ...")
    try:
        subprocess.run(["python3", "-m", "venv", "--clear", str(LEGACY_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-r", str(req)], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        return str(py), f"not available: could not install edgequake-litellm=={LEGACY_VERSION} ({e})"
    stamp.write_text(req.read_text())
    return str(py), ""


def contenders() -> list[Contender]:
    legacy_py, legacy_why = legacy_python()
    return [
        Contender("native", "LiteLLM native `openai/`"),
        Contender("edgequake", "LiteLLM + `edgequake/openai/`"),
        Contender("patch", "LiteLLM + `install(patch=True)`, `openai/`", unavailable=patch_mode()),
        Contender("direct", "direct API `edgequake_litellm.completion`"),
        Contender("core", "Rust core `_core.request` (floor)"),
        Contender("sdk", "OpenAI SDK + httpx alone (reference)"),
        Contender(
            "legacy",
            f"edgequake-litellm {LEGACY_VERSION} (registry)",
            python=legacy_py,
            env={"PYTHONPATH": ""},
            unavailable=legacy_why,
        ),
        Contender("rust", "LiteLLM native, `LITELLM_RUST=1`", env={"LITELLM_RUST": "1"}, unavailable=litellm_rust()),
        Contender("raw", "raw socket round trip (no client at all)", measures=("sync",)),
        *family_contenders(),
    ]


# Per-provider tiers, measured for sequential latency only (the full measures above are OpenAI's).
FAMILY_ROUTES = {
    "native": "LiteLLM native",
    "edgequake": "`edgequake/` route (translated by the core)",
    "patch": "transparent mode",
}
FAMILY_NAMES = {"mistral": "Mistral (generic HTTP tier)", "anthropic": "Anthropic", "gemini": "Gemini"}


def family_contenders() -> list[Contender]:
    out = []
    for fam in FAMILY_NAMES:
        for route, label in FAMILY_ROUTES.items():
            if fam == "mistral" and route == "edgequake":
                continue  # the generic tier is what transparent mode adds; edgequake/mistral is the OpenAI row
            out.append(Contender(f"{route}_{fam}", f"{FAMILY_NAMES[fam]}: {label}", measures=("sync", "async")))
    return out


# --------------------------------------------------------------------------- workers


class Remote:
    """A contender's worker process; ``call(op, **kw)`` runs one command and returns its answer."""

    def __init__(self, c: Contender, bases: dict[str, str], logdir: Path) -> None:
        self.c = c
        cfg = {"contender": c.name, "bases": bases, "key": KEY, "model": MODEL}
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **c.env}
        if c.name != "rust":
            env.pop("LITELLM_RUST", None)
        self.log = logdir / f"worker-{c.name}.log"
        self.proc = subprocess.Popen(
            [c.python, str(WORKER), json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log.open("w"),
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),  # so the venv's edgequake_litellm is imported, not a checkout
        )

    def wait_ready(self) -> None:
        self._read()

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            tail = self.log.read_text()[-3000:]
            raise RuntimeError(f"worker {self.c.name} died; its log ends with:\n{tail}")
        msg = json.loads(line)
        if "error" in msg:
            raise RuntimeError(f"worker {self.c.name}: {msg['error']}")
        return msg.get("ok")

    def call(self, op: str, **kw: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call("quit")
            except (RuntimeError, OSError):
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_workers(cs: list[Contender], bases: dict[str, str], logdir: Path) -> dict[str, Remote]:
    remotes = {c.name: Remote(c, bases, logdir) for c in cs}
    for r in remotes.values():
        r.wait_ready()
    return remotes


def rotated(names: list[str], r: int) -> list[str]:
    k = r % len(names)
    return names[k:] + names[:k]


def interleave(remotes: dict[str, Remote], rounds: int, op: str, **kw: Any) -> dict[str, list[Any]]:
    """``rounds`` rounds; in each, every worker runs ``op`` once, in rotating order."""
    names = list(remotes)
    out: dict[str, list[Any]] = {n: [] for n in names}
    for r in range(rounds):
        for name in rotated(names, r):
            res = remotes[name].call(op, **kw)
            if isinstance(res, list):
                out[name] += res
            else:
                out[name].append(res)
    return out


# --------------------------------------------------------------------------- checks


def check_answers(remotes: dict[str, Remote], nginx: Nginx) -> None:
    """Every contender must read the canned answers as LiteLLM native does."""
    answers = {name: r.call("check") for name, r in remotes.items()}
    expected = json.loads(nginx.body("json/v1/chat/completions"))["choices"][0]["message"]["content"]
    big = json.loads(nginx.body("big/v1/chat/completions"))["choices"][0]["message"]["content"]
    ref_stream = answers["native"]["stream"][1]
    for name, a in answers.items():
        problems = []
        family = name.split("_", 1)[1] if "_" in name else None
        # A provider family's routes must read its canned native answer as LiteLLM native does.
        want = answers[f"native_{family}"]["json"] if family in FAMILY_NAMES else expected
        if a["json"] != want or (family == "mistral" and want != expected):
            problems.append(f"content {a['json']!r}")
        if "async" in a and a["async"] != want:
            problems.append(f"async content {a['async']!r}")
        if "big" in a and a["big"][0] != len(big):
            problems.append(f"10 MB content of length {a['big'][0]}")
        if "stream" in a and (a["stream"][1] != ref_stream or ref_stream.count("tok") != STREAM_CHUNKS):
            problems.append(f"streamed text {a['stream'][1][:80]!r}...")
        if problems:
            raise RuntimeError(f"{name} reads the canned answers wrongly: {'; '.join(problems)}")
        log(f"  {name}: answers correct" + (f" (stream: {a['stream'][0]} chunks)" if "stream" in a else ""))
    for name in (n for n in remotes if n.startswith("patch")):  # transparent mode really served these
        st = remotes[name].call("status")
        by_core = {c["route"] for c in st["calls"] if c["served_by"] == "rust"}
        if not st["patched"] or not by_core:
            raise RuntimeError(f"{name}: install(patch=True) served nothing from the core: {st!r}")
        log(f"  {name}: served by the core: {sorted(by_core)}; status: {st['calls']}")


# --------------------------------------------------------------------------- import time

IMPORT_SNIPPET = """\
import time
t0 = time.perf_counter()
import {module} as m
t1 = time.perf_counter()
{then}
print(t1 - t0, time.perf_counter() - t1, m.__file__)
"""


def import_time(module: str, then: str = "", python: str = sys.executable, runs: int = 5) -> dict[str, Any]:
    first, second, path = [], [], ""
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", IMPORT_SNIPPET.format(module=module, then=then)],
            capture_output=True,
            text=True,
            check=True,
            cwd=tempfile.gettempdir(),
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONPATH": ""},
        ).stdout.split(maxsplit=2)
        first.append(float(out[0]))
        second.append(float(out[1]))
        path = out[2].strip()
    return {"import": first, "then": second, "path": path}


def import_breakdown(module: str, top: int = 4) -> list[tuple[str, float]]:
    """The modules with the largest cumulative import time (``python -X importtime``)."""
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    ).stderr
    children: list[tuple[str, float]] = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # "| name" is depth 0, two spaces a level
        if depth == 1:
            children.append((name.strip(), int(parts[1]) / 1e6))
        elif depth == 0:
            if name.strip() == module:
                return sorted(children, key=lambda r: -r[1])[:top]
            children = []
    return []


# --------------------------------------------------------------------------- environment


def elf_sections(path: Path) -> set[str]:
    """Section names of a 64-bit little-endian ELF file (empty if it is not one)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return set()
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    str_off, str_size = struct.unpack_from("<QQ", data, shoff + shstrndx * shentsize + 0x18)
    strtab = data[str_off : str_off + str_size]
    names = set()
    for i in range(shnum):
        (name_off,) = struct.unpack_from("<I", data, shoff + i * shentsize)
        names.add(strtab[name_off : strtab.index(b"\0", name_off)].decode("ascii", "replace"))
    return names


def build_kind() -> str:
    from edgequake_litellm import _core

    path = Path(_core.__file__ or "")
    size = path.stat().st_size / 2**20
    if ".debug_info" in elf_sections(path):
        kind = "debug (the core carries .debug_info: a dev-profile build)"
    elif sys.platform.startswith("linux"):
        kind = "release (no .debug_info in the core)"
    else:
        kind = "unknown"
    return f"{kind}; `{path.name}`, {size:.1f} MiB"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def source_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{rev} (with uncommitted changes)" if dirty else rev


def environment(load: str, nginx_version: str, date: str) -> list[tuple[str, str]]:
    from importlib.metadata import version

    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return [
        ("Date", date),
        (
            "Machine",
            f"{cpu_model()}, {cores} cores ({usable} usable), {platform.system()} {platform.machine()}; "
            "**shared with other developers' builds and tests while this ran**",
        ),
        ("Load average before the run (1/5/15 min)", load),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        (
            "litellm / openai / httpx / aiohttp",
            " / ".join(version(p) for p in ("litellm", "openai", "httpx", "aiohttp")),
        ),
        ("edgequake-litellm", f"{version('edgequake-litellm')} (this checkout, {source_revision()})"),
        ("Core build", build_kind()),
        ("Upstream", f"nginx {nginx_version} (1 worker process, static files, keep-alive) on 127.0.0.1"),
    ]


# --------------------------------------------------------------------------- report helpers


# --------------------------------------------------------------------------- main run


@dataclass
class Settings:
    calls: int  # sequential calls per contender (sync, async)
    rounds: int  # rounds for the throughput and big-answer measures
    streams: int
    block: int = 20
    stream_block: int = 5
    tput_levels: tuple[int, ...] = (1, 64, 512)
    tput_calls: dict[int, int] = field(default_factory=dict)
    big_block: int = 3
    proxy_seconds: float = 5.0


def settings_for(quick: bool) -> Settings:
    if quick:
        return Settings(calls=100, rounds=2, streams=10, tput_calls={1: 40, 64: 256, 512: 1024}, proxy_seconds=2.0)
    return Settings(calls=400, rounds=4, streams=40, tput_calls={1: 100, 64: 512, 512: 1024}, proxy_seconds=3.0)


def measure(args: argparse.Namespace, s: Settings) -> dict[str, Any]:
    results: dict[str, Any] = {
        "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    started = time.perf_counter()
    all_cs = contenders()
    results["contenders"] = [(c.name, c.label, c.unavailable) for c in all_cs]
    cs = [c for c in all_cs if not c.unavailable]
    logdir = Path(tempfile.mkdtemp(prefix="eq-bench-logs-"))
    with Nginx() as nginx:
        results["nginx"] = nginx.version()
        results["env"] = environment(results["load"], results["nginx"], results["date"])
        log(f"nginx {results['nginx']} at {nginx.url}; its ceiling with wrk ...")
        results["ceiling"] = ceiling(nginx, seconds=2.0 if args.quick else 4.0)
        for k, v in results["ceiling"].items():
            log(f"  {k}: {v['rps']:,.0f} req/s, p99 {ms(v['p99'])}")
        bases = {k: nginx.base_url(k) for k in ("json", "stream", "short", "big")}
        bases.update({k: f"{nginx.url}/{k}" for k in ("anth", "gem")})
        log(f"starting {len(cs)} workers: {', '.join(c.name for c in cs)} ...")
        remotes = start_workers(cs, bases, logdir)
        try:
            log("checking answers ...")
            check_answers(remotes, nginx)
            for r in remotes.values():  # warm up pools and caches
                r.call("sync", n=50)
            sel = {
                m: {n: r for n, r in remotes.items() if m in r.c.measures}
                for m in ("sync", "async", "tput", "stream", "big")
            }
            rounds = -(-s.calls // s.block)
            log(f"sync per call: {s.calls} calls per contender ...")
            results["sync"] = interleave(sel["sync"], rounds, "sync", n=s.block)
            log(f"async per call (sequential awaits): {s.calls} calls per contender ...")
            for r in sel["async"].values():
                r.call("async", n=30)
            results["async"] = interleave(sel["async"], rounds, "async", n=s.block)
            results["tput"] = {}
            for k in s.tput_levels:
                total = s.tput_calls[k]
                log(f"async throughput: {k} in flight, {s.rounds} rounds of {total} calls ...")
                for r in sel["tput"].values():
                    r.call("tput", total=min(total, 2 * k), inflight=k)  # grow the pools
                results["tput"][k] = interleave(sel["tput"], s.rounds, "tput", total=total, inflight=k)
            log(f"streaming, {STREAM_CHUNKS} chunks: {s.streams} streams per contender ...")
            results["stream"] = interleave(sel["stream"], -(-s.streams // s.stream_block), "stream", n=s.stream_block)
            log(f"10 MB answer: {s.rounds * s.big_block} calls per contender ...")
            results["big"] = interleave(sel["big"], s.rounds, "sync", n=s.big_block, kind="big")
            log("CPU per call (sync sequential; async at 64 in flight) ...")
            cpu_sync = interleave(sel["tput"], 3, "cpu", n=s.block * 5)
            cpu_async = interleave(sel["tput"], 3, "cpu", n=s.tput_calls[64], inflight=64)
            results["cpu"] = {
                n: {
                    mode: {k: statistics.median(x[k] for x in runs[n]) for k in ("thread", "process", "python")}
                    for mode, runs in (("sync", cpu_sync), ("async64", cpu_async))
                }
                for n in sel["tput"]
            }
            if "edgequake" in remotes and "native" in remotes:
                log("cProfile of sync calls (edgequake, native, direct) ...")
                results["profile"] = {
                    n: remotes[n].call("profile", n=300 if not args.quick else 100)
                    for n in ("edgequake", "native", "direct", "patch")
                    if n in remotes
                }
            if "patch" in remotes:
                results["patch_status"] = remotes["patch"].call("status")
        finally:
            for r in remotes.values():
                r.stop()

        log(f"memory: {MEM_INFLIGHT} concurrent calls on a slow upstream, a fresh process each ...")
        results["mem"] = {}
        with MockProcess() as slow:
            mem_bases = {**bases, "slow": slow.base_url(f"delay={SLOW_DELAY}")}
            for c in cs:
                if "mem" not in c.measures:
                    continue
                r = Remote(c, mem_bases, logdir)
                try:
                    r.wait_ready()
                    results["mem"][c.name] = r.call("mem", inflight=MEM_INFLIGHT)
                    slow.reset()
                finally:
                    r.stop()
                m = results["mem"][c.name]
                log(f"  {c.name}: {m['per_call'] / 1024:.1f} KiB per call, {m['errors']} errors, {m['elapsed']:.1f} s")

        if not args.no_proxy:
            from proxy_load import run_proxy_load

            try:
                results["proxy"] = run_proxy_load(
                    nginx,
                    seconds=s.proxy_seconds,
                    logdir=logdir,
                    workers_list=(1,) if args.quick else (1, 2),
                    connections=(1, 4, 16) if args.quick else (1, 2, 4, 8, 16, 32),
                )
            except (RuntimeError, OSError, subprocess.CalledProcessError) as e:  # keep the rest of the run
                log(f"proxy load test failed: {e}")
                results["proxy_error"] = str(e)[:500]

    log("import times (fresh interpreters) ...")
    results["import"] = {
        "edgequake_litellm": import_time("edgequake_litellm"),
        "install": import_time("edgequake_litellm", then="m.install()"),
        "litellm": import_time("litellm"),
    }
    results["importtime"] = import_breakdown("edgequake_litellm")
    legacy = next((c for c in all_cs if c.name == "legacy" and not c.unavailable), None)
    if legacy:
        results["import"]["legacy"] = import_time("edgequake_litellm", python=legacy.python)
    results["elapsed"] = time.perf_counter() - started
    return results


def profile_only(n: int) -> None:
    """Print a cProfile of ``n`` edgequake sync calls (in-process, against nginx)."""
    import cProfile
    import pstats

    import litellm

    import edgequake_litellm

    edgequake_litellm.install()
    with Nginx() as nginx:
        kw = {"messages": MESSAGES, "api_key": KEY, "api_base": nginx.base_url("json")}
        for _ in range(50):
            litellm.completion(model=f"edgequake/openai/{MODEL}", **kw)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(n):
            litellm.completion(model=f"edgequake/openai/{MODEL}", **kw)
        prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a fast sanity pass (5-10 minutes), fewer samples, proxy with 1 worker"
    )
    parser.add_argument(
        "--write", metavar="PATH", help="write the performance document (docs/performance.md) and its plot"
    )
    parser.add_argument("--no-proxy", action="store_true", help="skip the LiteLLM proxy load test")
    parser.add_argument("--json", metavar="PATH", help="also save the raw results as JSON")
    parser.add_argument("--profile", type=int, metavar="N", help="only print a cProfile of N edgequake sync calls")
    parser.add_argument("--render", metavar="JSON", help="no measuring: render the results saved by --json")
    args = parser.parse_args(argv)
    if args.profile:
        profile_only(args.profile)
        return 0
    from report import render

    if args.write and importlib.util.find_spec("matplotlib") is None:  # the plot, after ~15 min of measuring
        parser.error("--write needs matplotlib: pip install -r benchmarks/requirements.txt (make bench does)")
    if args.render:
        results = json.loads(Path(args.render).read_text())
    else:
        s = settings_for(args.quick)
        results = measure(args, s)
        results["command"] = shlex.join(["python", os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
        results["settings"] = s.__dict__
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1, default=str))

    doc, png = render(results, Path(args.write) if args.write else None)
    print(doc)
    if args.write:
        log(f"wrote {args.write} and {png}")
        if Path(args.write).resolve() == (ROOT / "docs" / "performance.md").resolve():
            from report import update_readme

            if update_readme(ROOT / "README.md", results):
                log("updated the headline block in README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
