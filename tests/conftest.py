"""Shared fixtures: the project's mock upstream on 127.0.0.1 and LiteLLM with the plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# The native side of every comparison is LiteLLM's own code: accelerators only where a test
# asks for them (transparent mode's `patched()`, the accelerator tests).
os.environ.setdefault("EDGEQUAKE_ACCEL", "0")
# No test calls the internet: LiteLLM's token counter fetches a Hugging Face tokenizer for some
# models (llama, ...); offline, the hub refuses at once and LiteLLM falls back to tiktoken, on
# both sides of every comparison. Read when huggingface_hub is imported: before any test.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

from edgequake_litellm.testing import MockUpstream, drain_litellm_logging

KEY = "sk-edgequake-test-0123456789abcdef"


@pytest.fixture(autouse=True)
def _litellm_logging_drained() -> Iterator[None]:
    """No test leaves LiteLLM's logging threads running into the next one. LiteLLM runs a
    stream's success handlers on those threads while the caller goes on, and concurrent
    mutation of one logging object there is a crash class LiteLLM fixes site by site (SIGSEGV;
    e.g. BerriAI/litellm#32239, #34306): a test's leftovers must not race the next test's calls."""
    yield
    if "litellm" in sys.modules:
        drain_litellm_logging()


@pytest.fixture(scope="session")
def upstream() -> Iterator[MockUpstream]:
    """The mock upstream in a thread of this process (fast, inspectable)."""
    with MockUpstream() as m:
        yield m


@pytest.fixture()
def mock(upstream: MockUpstream) -> MockUpstream:
    upstream.reset()
    return upstream


class ProcUpstream:
    """The mock upstream in its own process, for tests where this process's GIL must not
    serve the upstream (GIL release, concurrency timings)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edgequake_litellm.mock_upstream", "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.url = line.removeprefix("listening on ")

    def base_url(self, scenario: str | None = None) -> str:
        return f"{self.url}/v1" if scenario is None else f"{self.url}/s/{scenario}/v1"

    def stats(self) -> dict:
        import httpx

        return httpx.get(f"{self.url}/_control/stats").json()

    def requests(self) -> list[dict]:
        import httpx

        return httpx.get(f"{self.url}/_control/requests").json()

    def reset(self) -> None:
        import httpx

        httpx.post(f"{self.url}/_control/reset")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def proc_upstream() -> Iterator[ProcUpstream]:
    p = ProcUpstream()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def litellm():  # noqa: ANN201
    import litellm as _litellm

    import edgequake_litellm

    _litellm.suppress_debug_info = True
    edgequake_litellm.install()
    return _litellm
