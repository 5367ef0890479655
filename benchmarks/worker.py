"""One benchmark contender in its own process, driven by ``compare.py`` over stdin/stdout.

    python worker.py '{"contender": "native", "bases": {...}, "key": "...", "model": "..."}'

Every contender runs in a process of its own: ``install(patch=True)`` changes LiteLLM for the
whole process, edgequake-litellm 0.10.4 lives in another virtual environment under the same
import name, and LiteLLM's background work (logging threads, stream assembly) of one contender
must not land on another's clock. The driver sends one JSON command per line; the worker
answers one JSON line per command. Timing is taken here, around the call only.

Only the standard library is imported at module level: the same file runs in the 0.10.4 venv.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Awaitable, Iterator
from typing import Any, Callable

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

CFG: dict[str, Any] = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
NAME: str = CFG.get("contender", "")
BASES: dict[str, str] = CFG.get("bases", {})
KEY: str = CFG.get("key", "")
MODEL: str = CFG.get("model", "gpt-4o-mini")
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
SETTLE = 0.05
clock = time.perf_counter


# --------------------------------------------------------------------------- contenders


class Contender:
    """``call(kind)`` / ``acall(kind)`` make one chat completion against ``BASES[kind]``;
    ``stream()`` returns an iterator (or async iterator) of chunks, each a list of texts."""

    sync_stream = True

    def setup(self) -> None: ...

    def call(self, kind: str) -> Any:
        raise NotImplementedError

    def acall(self, kind: str) -> Awaitable[Any]:
        raise NotImplementedError

    def stream(self) -> Any:
        raise NotImplementedError

    def content(self, result: Any) -> str:
        return result.choices[0].message.content

    def chunk_texts(self, chunk: Any) -> list[str]:
        if not chunk.choices:
            return []
        return [chunk.choices[0].delta.content or ""]


class LiteLLM(Contender):
    def __init__(self, prefix: str, mode: str = "") -> None:
        self.prefix = prefix
        self.mode = mode

    def setup(self) -> None:
        import litellm

        litellm.suppress_debug_info = True
        if self.mode:
            import edgequake_litellm

            if self.mode == "patch":
                edgequake_litellm.install(patch=True)  # type: ignore[call-arg]
            else:
                edgequake_litellm.install()
        self.litellm = litellm

    def _kw(self, kind: str) -> dict[str, Any]:
        return {"model": self.prefix + MODEL, "messages": MESSAGES, "api_key": KEY, "api_base": BASES[kind]}

    def call(self, kind: str) -> Any:
        return self.litellm.completion(**self._kw(kind))

    def acall(self, kind: str) -> Awaitable[Any]:
        return self.litellm.acompletion(**self._kw(kind), timeout=120)

    def stream(self) -> Any:
        return self.litellm.completion(**self._kw("stream"), stream=True)


class Family(LiteLLM):
    """A provider family served by LiteLLM's own handler (native), by the `edgequake/` route
    (translated by the core) or by transparent mode (the core as that handler's transport)."""

    def __init__(self, prefix: str, mode: str, model: str, kind: str) -> None:
        super().__init__(prefix, mode)
        self.model, self.kind = model, kind

    def _kw(self, kind: str) -> dict[str, Any]:
        return {"model": self.prefix + self.model, "messages": MESSAGES, "api_key": KEY, "api_base": BASES[self.kind]}


# family -> (LiteLLM prefix, model, nginx base); measured native, edgequake/ and patched.
FAMILIES = {
    "mistral": ("mistral/", "mistral-small-latest", "json"),
    "anthropic": ("anthropic/", "claude-sonnet-4-5-20250929", "anth"),
    "gemini": ("gemini/", "gemini-2.5-flash", "gem"),
}


class Direct(Contender):
    def setup(self) -> None:
        import edgequake_litellm

        self.el = edgequake_litellm
        self.el.completion  # noqa: B018  (loads the direct API and LiteLLM's types now)

    def _kw(self, kind: str) -> dict[str, Any]:
        return {"model": "openai/" + MODEL, "messages": MESSAGES, "api_key": KEY, "api_base": BASES[kind]}

    def call(self, kind: str) -> Any:
        return self.el.completion(**self._kw(kind))

    def acall(self, kind: str) -> Awaitable[Any]:
        return self.el.acompletion(**self._kw(kind), timeout=120)

    def stream(self) -> Any:
        return self.el.completion(**self._kw("stream"), stream=True)


class Core(Contender):
    def setup(self) -> None:
        from edgequake_litellm import _core

        self.core = _core

    def call(self, kind: str) -> Any:
        return self.core.request("chat", "openai", MODEL, MESSAGES, {}, api_key=KEY, api_base=BASES[kind])

    def acall(self, kind: str) -> Awaitable[Any]:
        return self.core.arequest("chat", "openai", MODEL, MESSAGES, {}, api_key=KEY, api_base=BASES[kind], timeout=120)

    def stream(self) -> Any:
        return self.core.request("chat_stream", "openai", MODEL, MESSAGES, {}, api_key=KEY, api_base=BASES["stream"])

    def content(self, result: Any) -> str:
        return result[0]["choices"][0]["message"]["content"]

    def chunk_texts(self, chunk: Any) -> list[str]:
        # The core hands over parsed SSE events in batches; count events, as the caller sees them.
        return [(c["choices"][0]["delta"].get("content") or "") if c.get("choices") else "" for c in chunk]


class Sdk(Contender):
    def setup(self) -> None:
        import openai

        self.openai = openai
        self.clients = {k: openai.OpenAI(base_url=v, api_key=KEY) for k, v in BASES.items()}
        self.aclients: dict[str, Any] = {}

    def call(self, kind: str) -> Any:
        return self.clients[kind].chat.completions.create(model=MODEL, messages=MESSAGES)

    def acall(self, kind: str) -> Awaitable[Any]:
        if kind not in self.aclients:  # bound to the running loop: made on first use inside it
            self.aclients[kind] = self.openai.AsyncOpenAI(base_url=BASES[kind], api_key=KEY, timeout=120)
        return self.aclients[kind].chat.completions.create(model=MODEL, messages=MESSAGES)

    def stream(self) -> Any:
        return self.clients["stream"].chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)


class Legacy(Contender):
    """edgequake-litellm 0.10.4: ``api_base`` is accepted but not wired, so the base URL goes in
    ``OPENAI_BASE_URL``, which its core reads on every call (set before each kind of call)."""

    sync_stream = False  # 0.10.4 streams only from acompletion(stream=True)

    def setup(self) -> None:
        os.environ["OPENAI_API_KEY"] = KEY
        os.environ["OPENAI_BASE_URL"] = BASES["json"]
        import edgequake_litellm

        self.el = edgequake_litellm

    def _base(self, kind: str) -> None:
        os.environ["OPENAI_BASE_URL"] = BASES[kind]

    def call(self, kind: str) -> Any:
        self._base(kind)
        return self.el.completion("openai/" + MODEL, MESSAGES)

    def acall(self, kind: str) -> Awaitable[Any]:
        self._base(kind)
        return self.el.acompletion("openai/" + MODEL, MESSAGES)

    async def _astream(self) -> Any:
        self._base("stream")
        return await self.el.acompletion("openai/" + MODEL, MESSAGES, stream=True)

    def stream(self) -> Any:
        return self._astream()


class RawSocket(Contender):
    """A keep-alive HTTP/1.1 POST over a plain socket: the round trip no client can beat."""

    def setup(self) -> None:
        host_port = BASES["json"].split("//", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        path = "/" + BASES["json"].split("//", 1)[1].split("/", 1)[1] + "/chat/completions"
        body = json.dumps({"model": MODEL, "messages": MESSAGES}).encode()
        self.request = (
            f"POST {path} HTTP/1.1\r\nHost: {host_port}\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, kind: str) -> Any:
        sock = self.sock
        sock.sendall(self.request)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(65536)
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(rest) < length:
            rest += sock.recv(65536)
        return rest

    def content(self, result: Any) -> str:
        return json.loads(result)["choices"][0]["message"]["content"]


def make(name: str) -> Contender:
    table: dict[str, Callable[[], Contender]] = {
        "native": lambda: LiteLLM("openai/"),
        "rust": lambda: LiteLLM("openai/"),  # native, with LITELLM_RUST=1 in the environment
        "edgequake": lambda: LiteLLM("edgequake/openai/", "install"),
        "patch": lambda: LiteLLM("openai/", "patch"),
        "direct": Direct,
        "core": Core,
        "sdk": Sdk,
        "legacy": Legacy,
        "raw": RawSocket,
    }
    for fam, (prefix, model, kind) in FAMILIES.items():
        table[f"native_{fam}"] = lambda p=prefix, m=model, k=kind: Family(p, "", m, k)
        table[f"patch_{fam}"] = lambda p=prefix, m=model, k=kind: Family(p, "patch", m, k)
        table[f"edgequake_{fam}"] = lambda p=prefix, m=model, k=kind: Family("edgequake/" + p, "install", m, k)
    return table[name]()


# --------------------------------------------------------------------------- measures


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def runtime_cpu() -> float:
    """CPU seconds used so far by the core's runtime threads (``edgequake-io``; tokio's default
    name in 0.10.4), which run without the GIL but to hand a result over; 0 without a core."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                if f.read().strip() not in ("edgequake-io", "tokio-runtime-w"):
                    continue
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def settle() -> None:
    time.sleep(SETTLE)


class Worker:
    def __init__(self) -> None:
        self.c = make(NAME)
        self.c.setup()
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

    def run(self, coro: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def arun(self, kind: str, count: int = 1) -> Any:
        """``count`` concurrent async calls; the awaitables are made inside the running loop
        (the core's ``arequest`` needs one)."""

        async def go() -> Any:
            results = await asyncio.gather(*(self.c.acall(kind) for _ in range(count)))
            return results[0]

        return self.run(go())

    # -- one call of each kind, for the correctness check
    def op_check(self) -> dict[str, Any]:
        out: dict[str, Any] = {"json": self.c.content(self.c.call("json"))}
        if not isinstance(self.c, RawSocket):
            out["async"] = self.c.content(self.arun("json"))
        if not isinstance(self.c, (RawSocket, Family)):  # families: sequential latency only
            big = self.c.content(self.c.call("big"))
            out["big"] = [len(big), big[:20]]
            n, texts = self._stream_texts()
            out["stream"] = [n, "".join(texts)]
        return out

    def _stream_texts(self) -> tuple[int, list[str]]:
        texts: list[str] = []
        n = 0
        for batch in self._iterate_stream():
            n += len(batch)
            texts += batch
        return n, texts

    def _iterate_stream(self) -> Iterator[list[str]]:
        if self.c.sync_stream:
            for chunk in self.c.stream():
                yield self.c.chunk_texts(chunk)
            return
        # An async-only stream, consumed here chunk by chunk (0.10.4).
        agen = self.run(self.c.stream())
        it = agen.__aiter__()
        while True:
            try:
                chunk = self.run(it.__anext__())
            except StopAsyncIteration:
                return
            yield [chunk.choices[0].delta.content or ""] if chunk.choices else [""]

    def settle_sync(self) -> None:
        """Before a sync measure: LiteLLM's logging backlog that earlier async measures left on
        this thread's loop is run now, not by the first timed calls (each sync call LiteLLM
        times runs that loop, ``ServiceLogging.service_success_hook``; 33-55 ms landed inside
        the first timed stream's time to first chunk, natively and in transparent mode)."""
        worker = getattr(sys.modules.get("litellm.litellm_core_utils.logging_worker"), "GLOBAL_LOGGING_WORKER", None)
        if worker is not None:
            self.run(worker.flush())
        settle()

    def op_sync(self, n: int, kind: str = "json") -> list[float]:
        call = self.c.call
        self.settle_sync()
        call(kind)  # untimed: keeps the previous block's leftovers off this one
        out = []
        for _ in range(n):
            t0 = clock()
            call(kind)
            out.append(clock() - t0)
        return out

    def op_async(self, n: int) -> list[float]:
        async def block() -> list[float]:
            acall = self.c.acall
            await asyncio.sleep(SETTLE)
            await acall("json")
            out = []
            for _ in range(n):
                t0 = clock()
                await acall("json")
                out.append(clock() - t0)
            return out

        return self.run(block())

    def op_tput(self, total: int, inflight: int) -> float:
        """``total`` calls with ``inflight`` of them in flight at any time; returns calls/s."""

        async def burst() -> float:
            todo = iter(range(total))
            acall = self.c.acall

            async def lane() -> None:
                for _ in todo:
                    await acall("json")

            await asyncio.sleep(SETTLE)
            t0 = clock()
            await asyncio.gather(*(lane() for _ in range(inflight)))
            return total / (clock() - t0)

        return self.run(burst())

    def op_stream(self, n: int) -> list[list[float]]:
        self.settle_sync()
        for _ in self._iterate_stream():  # untimed
            pass
        out = []
        for _ in range(n):
            t0 = clock()
            first = None
            count = 0
            for batch in self._iterate_stream():
                if first is None:
                    first = clock() - t0
                count += len(batch)
            total = clock() - t0
            out.append([first or 0.0, total, count])
        return out

    def op_mem(self, inflight: int, warm: int = 20) -> dict[str, float]:
        """Peak RSS growth while ``inflight`` calls wait on the slow upstream, per call."""
        for _ in range(warm):  # load everything a call needs, grow pools and caches
            self.arun("json")
        self.arun("slow", 8)
        gc.collect()
        base = rss()
        peak = [base]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss())
                time.sleep(0.005)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = clock()

        async def one() -> Any:
            try:
                await self.c.acall("slow")  # the answer is dropped: only in-flight state is counted
            except Exception as e:
                return e
            return None

        async def many() -> list[Any]:
            return await asyncio.gather(*(one() for _ in range(inflight)))

        results = self.run(many())
        elapsed = clock() - t0
        done.set()
        sampler.join()
        errors = [r for r in results if isinstance(r, BaseException)]
        return {
            "base": base,
            "peak": peak[0],
            "per_call": (peak[0] - base) / inflight,
            "elapsed": elapsed,
            "errors": len(errors),
            "first_error": repr(errors[0])[:300] if errors else "",
        }

    def op_status(self) -> Any:
        """Transparent mode's own count of the routes calls took (None for other contenders)."""
        if not NAME.startswith("patch"):
            return None
        import edgequake_litellm

        st = edgequake_litellm.status()
        return {"patched": st["patched"], "refused": st["refused"], "calls": st["calls"]}

    def op_cpu(self, n: int, inflight: int = 0) -> dict[str, float]:
        """CPU per call: of the calling thread (where Python runs: LiteLLM, our wrapper, the
        event loop), of the whole process (adds the core's threads and LiteLLM's background
        logging and executor threads), and of the process's Python threads (every thread but the
        core's runtime threads: what the GIL serializes). ``inflight=0``: ``n`` sequential sync
        calls; else an async burst."""
        if not inflight:
            self.settle_sync()
        r0 = runtime_cpu()
        t0, p0 = time.thread_time(), time.process_time()
        if inflight:
            self.op_tput(n, inflight)
        else:
            for _ in range(n):
                self.c.call("json")
        time.sleep(0.2)  # let background logging of the last calls finish (counted in process CPU)
        process = (time.process_time() - p0) / n
        return {
            "thread": (time.thread_time() - t0) / n,
            "process": process,
            "python": process - (runtime_cpu() - r0) / n,
        }

    def op_profile(self, n: int) -> dict[str, Any]:
        """cProfile of ``n`` sequential sync calls: total per call, and the cumulative time of
        the named parts (our handler, the core's HTTP exchange, the OpenAI SDK's), plus the
        functions with the most own time."""
        import cProfile
        import pstats

        for _ in range(20):
            self.c.call("json")
        prof = cProfile.Profile()
        t0 = clock()
        prof.enable()
        for _ in range(n):
            self.c.call("json")
        prof.disable()
        total = (clock() - t0) / n
        stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
        parts = {"handler": 0.0, "core": 0.0, "sdk": 0.0}
        own: list[tuple[float, str]] = []
        for (path, line, func), (_cc, _nc, tt, ct, _callers) in stats.items():
            where = f"{path.rsplit('site-packages/', 1)[-1]}:{line}({func})"
            ours = (path.endswith("_handler.py") and func == "completion") or (
                path.endswith("_patch_openai.py") and func == "make_sync_openai_chat_completion_request"
            )
            if ours:
                parts["handler"] = max(parts["handler"], ct)
            if "edgequake_litellm._core" in func or func == "<built-in method edgequake_litellm._core.request>":
                parts["core"] = max(parts["core"], ct)
            if path.endswith("openai/_base_client.py") and func == "request":
                parts["sdk"] = max(parts["sdk"], ct)
            own.append((tt, where))
        own.sort(reverse=True)
        return {
            "total": total,
            "parts": {k: v / n for k, v in parts.items()},
            "top_own": [[t / n, w] for t, w in own[:12]],
        }


def main() -> None:
    # Answers go to the real stdout; anything a library prints goes to stderr.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = Worker()
    out.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        cmd = json.loads(line)
        op = cmd.pop("op")
        if op == "quit":
            break
        try:
            result = getattr(worker, f"op_{op}")(**cmd)
            out.write(json.dumps({"ok": result}) + "\n")
        except Exception as e:  # reported to the driver, which stops the run
            out.write(json.dumps({"error": f"{type(e).__name__}: {e}"[:2000]}) + "\n")


if __name__ == "__main__":
    main()
