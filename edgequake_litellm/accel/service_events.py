"""The ``service_events`` accelerator: LiteLLM's per-call service timing event, without an event loop
when no service callback is registered.

Every sync provider call LiteLLM times (``track_llm_api_timing``: the OpenAI SDK handlers, Azure,
``HTTPHandler.post``, ...) ends in ``ServiceLogging.service_success_hook``, which builds a payload
for ``litellm.service_callback`` and delivers it through an asyncio event loop: it runs
``loop.run_until_complete`` on the thread's idle loop (or ``asyncio.run`` on a thread without
one), a tenth of the CPU of a served call. With ``litellm.service_callback`` empty the payload
reaches no one; what remains observable is the loop run itself. So the event is skipped only when
that run would do nothing but run this one task:

- no service callback, no ``mock_testing`` counter, LiteLLM's own ``ServiceLogging`` methods
  (a subclass or a test double on them runs the original), argument types the payload accepts
  as they are, and a service other than Redis (whose payload reads the cache's call target);
- the thread has no event loop, or its loop is a plain selector loop that is not running, not in
  debug mode, not stopping, with nothing ready, no timer, no signal handler and no file but its
  own wake-up pipe (a running loop, or anything a loop run would advance, runs the original).

The tasks the original creates still take their numbers from asyncio's task counter, so the
names of tasks created later (``Task-N``) are the same as without the accelerator. The sources of the
``ServiceLogging`` methods this reasons about are pinned in the contract: a LiteLLM that changed
any of them gets LiteLLM's own function.
"""

from __future__ import annotations

import sys
from typing import Any

from .accelerator import Accelerator, Tally, pin_problems
from .reused_loop import ASYNCIO_RUN_TASKS, idle, take_task_numbers

_CLS = "litellm._service_logger.ServiceLogging"
_REPLACES = (f"{_CLS}.service_success_hook",)
# sha256 (first 16 hex digits) of the source of each ServiceLogging member the fast path reasons
# about, in the LiteLLM releases it was read against (1.109.0 through 1.110.2: identical).
_PINNED = {
    "service_success_hook": "c2bf930d362eb9f6",
    "_dispatch_from_sync": "dc3ef0d323dca4d4",
    "_sync_dispatch_loop": "0f2f74de6b3009e4",
    "_emit_guarded": "92428479a5699e07",
    "async_service_success_hook": "3c6fde163653fcff",
    "__init__": "6b10ce5104250dc3",
}

_tally = Tally()
# The ServiceLogging class and its members as installed (the fast path checks they are unchanged).
_orig: dict[str, Any] = {}


def _why_not(self: Any, service: Any, duration: Any, call_type: Any, caller: Any) -> str | None:
    import litellm

    cls = _orig["cls"]
    if type(self) is not cls:
        return "subclass"
    for name in ("_dispatch_from_sync", "_sync_dispatch_loop", "_emit_guarded", "async_service_success_hook"):
        if cls.__dict__.get(name) is not _orig[name]:
            return "replaced-method"
    if "async_service_success_hook" in vars(self) or getattr(self, "mock_testing", True):
        return "instance-override"
    callbacks = litellm.service_callback
    if type(callbacks) is not list or callbacks:
        return "service-callback"
    if not isinstance(service, _orig["ServiceTypes"]) or service == _orig["ServiceTypes"].REDIS:
        return "service"
    if type(duration) is not float or type(call_type) is not str or not (caller is None or type(caller) is str):
        return "argument-types"
    return None


def service_success_hook(
    self: Any,
    service: Any,
    duration: Any,
    call_type: Any,
    parent_otel_span: Any = None,
    start_time: Any = None,
    end_time: Any = None,
    caller: Any = None,
) -> None:
    reason = _why_not(self, service, duration, call_type, caller)
    if reason is None:
        # Called as the original calls it: its side effects (a loop made for the main thread) stay.
        loop = _orig["cls"]._sync_dispatch_loop()
        tasks = ASYNCIO_RUN_TASKS.get(sys.version_info[:2]) if loop is None else 1 if idle(loop) else None
        if tasks is not None:
            take_task_numbers(tasks)
            _tally.fast()
            return None
        reason = "event-loop"
    _tally.fell_back(reason)
    return _orig["service_success_hook"](  # type: ignore[no-any-return]
        self,
        service=service,
        duration=duration,
        call_type=call_type,
        parent_otel_span=parent_otel_span,
        start_time=start_time,
        end_time=end_time,
        caller=caller,
    )


def _problems() -> list[str]:
    try:
        import litellm._service_logger  # noqa: F401  # the module the pins resolve in
        from litellm.types.services import ServiceTypes
    except ImportError as e:
        return [f"litellm._service_logger is missing ({e})"]
    out: list[str] = []
    if not hasattr(ServiceTypes, "REDIS"):
        out.append("ServiceTypes.REDIS is missing")
    pins = {f"{_CLS}.{name}": digest for name, digest in _PINNED.items()}
    hook = f"{_CLS}.service_success_hook"
    return out + pin_problems(pins, {hook: (service_success_hook, _orig.get("service_success_hook"))})


def _install() -> None:
    from litellm._service_logger import ServiceLogging
    from litellm.types.services import ServiceTypes

    _orig.clear()
    _orig.update({name: ServiceLogging.__dict__[name] for name in _PINNED})
    _orig["cls"] = ServiceLogging
    _orig["ServiceTypes"] = ServiceTypes
    ServiceLogging.service_success_hook = service_success_hook  # type: ignore[method-assign]


def _uninstall() -> None:
    cls = _orig.get("cls")
    if cls is not None and cls.__dict__.get("service_success_hook") is service_success_hook:
        cls.service_success_hook = _orig["service_success_hook"]


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="service_events",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
