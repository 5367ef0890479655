"""Load and soak: many calls complete with the right answers, and nothing grows.

The upstream is the mock in its own process (so this process's GIL does not serve it).
Both tests are bounded: the load test by its call count, the soak by a call count and a
time budget, whichever comes first (on a loaded 2-core machine the budget ends it, and the
number of calls made is printed). Memory and file descriptors are read from /proc.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import Iterator

import pytest

import edgequake_litellm
from edgequake_litellm import _core

from .conftest import KEY, ProcUpstream

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux)")

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def load_upstream() -> Iterator[ProcUpstream]:
    """An upstream of their own: stopping it afterwards closes the ~1,000 pooled
    connections, so later tests see neither them nor their memory."""
    p = ProcUpstream()
    yield p
    p.stop()


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _wave(base: str, start: int, count: int, in_flight: int) -> list[str]:
    sem = asyncio.Semaphore(in_flight)

    async def one(i: int) -> str:
        async with sem:
            r = await edgequake_litellm.acompletion(
                model="openai/gpt-4o-mini",
                messages=[{"role": "user", "content": f"call {i}"}],
                api_key=KEY,
                api_base=base,
                timeout=120,
            )
            return r.choices[0].message.content

    return await asyncio.gather(*(one(i) for i in range(start, start + count)))


def test_10k_async_calls_1k_in_flight(load_upstream):
    base = load_upstream.base_url()
    # Warm-up: the pool opens its ~1,000 connections and allocators reach their working size.
    warm = asyncio.run(_wave(base, 0, 1000, 1000))
    assert warm == [f"Echo: call {i}" for i in range(1000)]
    gc.collect()
    before_rss, before_fds = rss(), open_fds()
    answers = asyncio.run(_wave(base, 1000, 10_000, 1000))
    gc.collect()
    grown = rss() - before_rss
    print(f"\n10k calls: RSS {before_rss / MIB:.1f} -> {rss() / MIB:.1f} MiB, fds {before_fds} -> {open_fds()}")
    wrong = [(i, a) for i, a in enumerate(answers, 1000) if a != f"Echo: call {i}"]
    assert not wrong, wrong[:5]
    assert grown < 64 * MIB, f"RSS grew by {grown / MIB:.1f} MiB over 10,000 calls"
    # Pooled connections are reused, not added: at most the 1,000 in flight stay open.
    assert open_fds() <= before_fds + 1000 + 16


def _soak(base: str, n: int) -> None:
    for i in range(n):
        if i % 10 == 9:
            stream = _core.request(
                "chat_stream", "openai", "m", [{"role": "user", "content": f"s {i}"}], api_key=KEY, api_base=base
            )
            text = "".join(
                c["choices"][0]["delta"].get("content") or "" for batch in stream for c in batch if c["choices"]
            )
            assert text == f"Echo: s {i}", text
        else:
            body, _, _ = _core.request(
                "chat", "openai", "m", [{"role": "user", "content": f"c {i}"}], api_key=KEY, api_base=base
            )
            assert body["choices"][0]["message"]["content"] == f"Echo: c {i}"


def test_soak_sequential_calls_no_growth(load_upstream):
    """Up to 100,000 sequential calls (one in ten streamed) through the core, or 60 s."""
    base = load_upstream.base_url()
    _soak(base, 2000)  # warm-up
    gc.collect()
    before_rss, before_fds = rss(), open_fds()
    done, deadline, samples = 0, time.monotonic() + 60, []
    while done < 100_000 and time.monotonic() < deadline:
        _soak(base, 1000)
        done += 1000
        samples.append((rss(), open_fds()))
    gc.collect()
    after_rss, after_fds = rss(), open_fds()
    print(
        f"\nsoak: {done} calls, RSS {before_rss / MIB:.1f} -> {after_rss / MIB:.1f} MiB "
        f"(max {max(s[0] for s in samples) / MIB:.1f}), fds {before_fds} -> {after_fds}"
    )
    assert done >= 10_000, f"only {done} calls in the time budget: the soak proves too little"
    # A leak grows with the calls (100 soak rounds); a pooled keep-alive connection that the
    # server closed and the pool reopened, or a logging thread's file, is not one.
    assert after_fds <= before_fds + 4, f"open file descriptors grew: {before_fds} -> {after_fds}"
    assert after_rss - before_rss < 8 * MIB, f"RSS grew by {(after_rss - before_rss) / MIB:.1f} MiB"
