"""The benchmark upstreams: nginx serving canned OpenAI answers, and a slow one for the memory test.

nginx (Debian's package) is fast enough never to be the bottleneck: it answers from files in a
temporary directory on a non-root port of 127.0.0.1, with its own config, pid file and logs
there, and is stopped at the end. Which answer a request gets is chosen by the path prefix of
``api_base`` (nginx does not read request bodies):

  /json/v1/chat/completions      a chat completion (application/json)
  /json/v1/embeddings            an embeddings answer
  /stream/v1/chat/completions    a 100-chunk SSE stream ending in a usage chunk and [DONE]
  /short/v1/chat/completions     a 5-chunk SSE stream
  /big/v1/chat/completions       a ~10 MB chat completion

The bodies are recorded once from the project's mock upstream, whose answers the test suite
checks LiteLLM parses like OpenAI's; the benchmark's warm-up then checks every contender reads
them correctly. nginx's static handler refuses POST (405); ``error_page 405 =200 $uri`` turns
that into a GET of the same file, which is how a static server answers POSTs with a fixed body.

The slow upstream is the project's mock with a ``delay`` scenario (in its own process): there
latency is the point, not speed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

MODEL = "gpt-4o-mini"
# Provider families measured per tier (benchmarks/worker.py FAMILIES): model, and where nginx
# serves the provider's canned native answer.
ANTHROPIC_MODEL = "claude-sonnet-4-5-20250929"
GEMINI_MODEL = "gemini-2.5-flash"
EMBED_MODEL = "text-embedding-3-small"
KEY = "sk-edgequake-bench-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
STREAM_CHUNKS = 100
SHORT_CHUNKS = 5
BIG_BYTES = 10 * 2**20

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; multi_accept on; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 600s;
    client_max_body_size 64m;
    types {{ }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {dir}/www;
        error_page 405 =200 $uri;
        location /json/ {{ default_type application/json; }}
        location /big/ {{ default_type application/json; }}
        location /stream/ {{ default_type text/event-stream; }}
        location /short/ {{ default_type text/event-stream; }}
        location /anth/ {{ default_type application/json; }}
        location /gem/ {{ default_type application/json; }}
    }}
}}
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_tools() -> None:
    """nginx and wrk from the distribution's packages (installed here when root and missing)."""
    missing = [t for t in ("nginx", "wrk") if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit(f"missing {', '.join(missing)}: install the nginx and wrk packages")
    log(f"installing {', '.join(missing)} (apt-get) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx", "wrk"], check=True, env=env)


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def _post(url: str, body: dict[str, Any]) -> bytes:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.read()


def record_bodies(www: Path) -> None:
    """Record the canned answers from the project's mock upstream (in this process, briefly)."""
    from edgequake_litellm.testing import MockUpstream  # with the Anthropic and Gemini wire formats

    chat = {"model": MODEL, "messages": MESSAGES}
    stream = {**chat, "stream": True, "stream_options": {"include_usage": True}}
    with MockUpstream() as mock:
        bodies = {
            "json/v1/chat/completions": _post(f"{mock.base_url()}/chat/completions", chat),
            "json/v1/embeddings": _post(
                f"{mock.base_url()}/embeddings", {"model": EMBED_MODEL, "input": ["hello world"]}
            ),
            "stream/v1/chat/completions": _post(f"{mock.base_url(f'chunks={STREAM_CHUNKS}')}/chat/completions", stream),
            "short/v1/chat/completions": _post(f"{mock.base_url(f'chunks={SHORT_CHUNKS}')}/chat/completions", stream),
            "anth/v1/messages": _post(
                f"{mock.url}/v1/messages", {"model": ANTHROPIC_MODEL, "messages": MESSAGES, "max_tokens": 64}
            ),
            # LiteLLM asks `{api_base}/models/<model>:generateContent` when given an api_base.
            f"gem/models/{GEMINI_MODEL}:generateContent": _post(
                f"{mock.url}/v1beta/models/{GEMINI_MODEL}:generateContent",
                {"contents": [{"role": "user", "parts": [{"text": MESSAGES[0]["content"]}]}]},
            ),
        }
    big = json.loads(bodies["json/v1/chat/completions"])
    words = BIG_BYTES // 8
    big["choices"][0]["message"]["content"] = "lorem ip " * words
    big["usage"]["completion_tokens"] = words
    big["usage"]["total_tokens"] = words + big["usage"]["prompt_tokens"]
    bodies["big/v1/chat/completions"] = json.dumps(big).encode()
    for rel, data in bodies.items():
        path = www / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


class Nginx:
    """nginx on 127.0.0.1:<free port>, configured in a temporary directory; a context manager."""

    def __init__(self) -> None:
        ensure_tools()
        self.dir = Path(tempfile.mkdtemp(prefix="eq-bench-nginx-"))
        os.chmod(self.dir, 0o755)  # nginx's worker may run as another user
        for sub in ("www", "tmp"):
            (self.dir / sub).mkdir()
        record_bodies(self.dir / "www")
        for root, dirs, files in os.walk(self.dir / "www"):
            for name in dirs:
                os.chmod(Path(root) / name, 0o755)
            for name in files:
                os.chmod(Path(root) / name, 0o644)
        self.conf = self.dir / "nginx.conf"
        for attempt in range(3):  # a free port can be taken before nginx binds it
            self.port = free_port()
            self.conf.write_text(NGINX_CONF.format(dir=self.dir, port=self.port))
            # In the foreground (daemon off) as our child, so stop() can wait for it.
            with (self.dir / "stderr.log").open("w") as err_file:
                self.proc = subprocess.Popen(
                    [nginx_binary(), "-c", str(self.conf), "-p", str(self.dir)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err_file,
                )
            try:
                self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                break  # still running: it bound the port
            err = (self.dir / "stderr.log").read_text()
            if attempt == 2 or "in use" not in err:
                raise RuntimeError(f"nginx did not start: {err.strip()}")
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                _post(f"{self.base_url('json')}/chat/completions", {})
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not answer within 10 s")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, kind: str = "json") -> str:
        return f"{self.url}/{kind}/v1"

    def body(self, rel: str) -> bytes:
        return (self.dir / "www" / rel).read_bytes()

    def version(self) -> str:
        out = subprocess.run([nginx_binary(), "-v"], capture_output=True, text=True).stderr
        return out.strip().split("/", 1)[-1]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MockProcess:
    """The project's mock upstream in its own process (the slow upstream of the memory test)."""

    def __init__(self) -> None:
        # A neutral cwd, so the child imports the same edgequake_litellm as this process.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edgequake_litellm.mock_upstream", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"mock upstream did not start: {line!r}")
        self.url = line[len("listening on ") :]

    def base_url(self, scenario: str | None = None) -> str:
        return f"{self.url}/s/{scenario}/v1" if scenario else f"{self.url}/v1"

    def reset(self) -> None:
        """Drop the requests the mock recorded, so its memory does not grow over a long run."""
        req = urllib.request.Request(f"{self.url}/_control/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> MockProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- wrk


def _wrk_seconds(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def wrk(
    url: str, *, connections: int, seconds: float, threads: int = 1, body: str | None = None, key: str = KEY
) -> dict[str, float]:
    """Run wrk (POST with a JSON body when given); returns rps, p50, p99 (seconds) and errors."""
    script = None
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "30s"]
    if body is not None:
        fd, script = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(
                'wrk.method = "POST"\n'
                f"wrk.body = {json.dumps(body)}\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Authorization"] = "Bearer {key}"\n'
            )
        args += ["-s", script]
    try:
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    finally:
        if script:
            os.unlink(script)
    res: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct, key in (("50", "p50"), ("99", "p99")):
        res[key] = _wrk_seconds(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["errors"] = float(errs.group(1) if errs else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return res


def open_loop(url: str, *, rate: float, seconds: float, body: str, key: str = KEY) -> dict[str, float]:
    """Requests at evenly spaced times (``rate`` per second), whatever the answers' latency.

    Latency counts from each request's scheduled time, so a server that falls behind shows it
    (no coordinated omission). At the proxy's rates (tens per second) this small asyncio client
    costs next to nothing; hey's per-worker tickers fire in bursts instead."""
    import asyncio

    import aiohttp

    total = int(rate * seconds)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    async def run() -> tuple[list[float], int, float]:
        lat: list[float] = []
        errors = 0
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512)) as session:
            start = loop.time() + 0.05

            async def one(i: int) -> None:
                nonlocal errors
                due = start + i / rate
                await asyncio.sleep(max(0.0, due - loop.time()))
                try:
                    async with session.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        errors += resp.status != 200
                except aiohttp.ClientError:
                    errors += 1
                lat.append(loop.time() - due)

            await asyncio.gather(*(one(i) for i in range(total)))
            return lat, errors, loop.time() - start

    lat, errors, elapsed = asyncio.run(run())
    lat.sort()
    return {
        "rps": total / elapsed,
        "p50": lat[len(lat) // 2],
        "p99": lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))],
        "errors": float(errors),
    }


def ceiling(nginx: Nginx, seconds: float = 3.0) -> dict[str, dict[str, float]]:
    """What nginx alone answers, per body, measured with wrk (POST) on this machine."""
    body = json.dumps({"model": MODEL, "messages": MESSAGES})
    return {
        "chat JSON, 64 conns": wrk(
            f"{nginx.base_url('json')}/chat/completions", connections=64, seconds=seconds, body=body
        ),
        "100-chunk SSE, 64 conns": wrk(
            f"{nginx.base_url('stream')}/chat/completions", connections=64, seconds=seconds, body=body
        ),
    }


if __name__ == "__main__":  # a manual check: start nginx, print its ceiling, stop
    with Nginx() as n:
        print(n.url, n.version())
        for name, r in ceiling(n).items():
            print(f"{name}: {r['rps']:,.0f} req/s, p50 {r['p50'] * 1e3:.2f} ms, p99 {r['p99'] * 1e3:.2f} ms")
