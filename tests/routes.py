"""The three ways one call can run, for the differential tests: LiteLLM's own code
(``<provider>/<model>``), the ``edgequake/`` provider (``edgequake/<provider>/<model>``) and
transparent mode (``<provider>/<model>`` with ``install(patch=True)``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from .test_patch import both


def three_ways(call: Callable[[str], Any], model: str, *, expect_rust: int | None = 1) -> tuple[Any, Any, Any]:
    """``call(model)`` natively, ``call("edgequake/" + model)``, and ``call(model)`` patched
    (which must be served by the core ``expect_rust`` times, at least once when None):
    (native, edgequake, transparent)."""
    native, transparent = both(lambda: call(model), expect_rust=expect_rust)
    ours = call(f"edgequake/{model}")
    return native, ours, transparent


def error_view(e: BaseException) -> tuple[str, Any, str]:
    """What a caller reads from an exception: class, status and message."""
    return type(e).__name__, getattr(e, "status_code", None), str(e)


def stable_dump(resp: Any) -> dict:
    """A response's ``model_dump`` without LiteLLM's own clock (streamed responses)."""
    d = resp.model_dump()
    d.pop("created", None)
    return d


class CallbackEvents(CustomLogger):
    """What LiteLLM's callbacks get: event, call type, cost and failure class, per event."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any, Any, Any]] = []

    def _add(self, event: str, kwargs: dict, error: Any = None) -> None:
        slo = kwargs.get("standard_logging_object") or {}
        self.events.append((event, kwargs.get("call_type"), slo.get("response_cost"), type(error).__name__))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("success", kwargs)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("failure", kwargs, kwargs.get("exception"))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("async_success", kwargs)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):  # noqa: ANN001, ANN201
        self._add("async_failure", kwargs, kwargs.get("exception"))
