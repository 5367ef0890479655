"""The ``stream_logging`` accelerator: a sync stream's per-chunk success logging without a new
event loop per chunk.

For every chunk of a sync stream, ``CustomStreamWrapper.run_success_logging_and_cache_storage``
(on LiteLLM's logging thread pool) runs ``Logging.async_success_handler`` through
``asyncio.run``: a new event loop made and closed per chunk. That is most of what a sync stream
costs beyond the chunks themselves (a 100-chunk stream: 120 ms of CPU with it, 62 ms with one
loop kept), because each of the loop's dozen system calls hands the GIL to the consuming thread
and back. The replacement is LiteLLM's method with that one call handed to
``reused_loop.run``, which reproduces ``asyncio.run`` but keeps the loop when the run leaves it as
new. The loop object is the one thing that differs, so it is only kept across runs in which the
coroutine was LiteLLM's own code with nothing registered that could hold on to it:

- ``Logging.async_success_handler`` and its body are LiteLLM's (not a subclass's, a test
  double's, or set on the instance), and ``asyncio.run`` is asyncio's;
- no async success callback, global (``litellm._async_success_callback``) or for the call
  (``dynamic_async_success_callbacks``), before the run or after it, and no autorouter baseline
  cache (whose estimate awaits the proxy's cache);
- ``reused_loop.why_not()`` has nothing against the thread and Python.

Otherwise, and for any run that leaves the loop changed (LiteLLM's ``to_thread`` of a long
message history makes a default executor), ``asyncio.run``'s own sequence runs. The sources this
reasons about are pinned in ``_PINNED``.
"""

from __future__ import annotations

import types
from collections.abc import Coroutine
from typing import Any

from . import _stream_logging_code, reused_loop
from .accelerator import Accelerator, Tally, pin_problems

_SH = "litellm.litellm_core_utils.streaming_handler"
_LOG = "litellm.litellm_core_utils.litellm_logging"
_METHOD = "run_success_logging_and_cache_storage"
_REPLACES = (f"{_SH}.CustomStreamWrapper.{_METHOD}",)

# sha256 (first 16 hex digits) of each LiteLLM source the fast path copies or reasons about
# (LiteLLM 1.110.2).
_PINNED = {
    f"{_SH}.CustomStreamWrapper.{_METHOD}": "7fb066596196aa71",
    f"{_LOG}.Logging.async_success_handler": "f7e3f0d38137c41a",
    f"{_LOG}.Logging._async_success_handler_body": "bd1427c28839f6e0",
    f"{_LOG}.Logging._prepare_baseline_cache_estimate": "e3f7e2c8c86988fb",
    f"{_LOG}.Logging.get_combined_callback_list": "4a38f4ea0a655af1",
    "litellm.litellm_core_utils.logging_utils.truncate_base64_in_messages_async": "14eb356769d9dd49",
}

_tally = Tally()
_orig: dict[str, Any] = {}


def _why_not(logging_obj: Any) -> str | None:
    """Why this run must be ``asyncio.run`` itself, as far as the logging object goes."""
    cls = type(logging_obj)
    if (
        getattr(cls, "async_success_handler", None) is not _orig["async_success_handler"]
        or getattr(cls, "_async_success_handler_body", None) is not _orig["_async_success_handler_body"]
    ):
        return "handler-replaced"
    instance = getattr(logging_obj, "__dict__", {})
    if "async_success_handler" in instance or "_async_success_handler_body" in instance:
        return "handler-replaced"
    callbacks = _orig["litellm"]._async_success_callback
    dynamic = getattr(logging_obj, "dynamic_async_success_callbacks", None)
    if type(callbacks) is not list or callbacks or not (dynamic is None or (type(dynamic) is list and not dynamic)):
        return "async-callbacks"
    if getattr(logging_obj, "baseline_cache_context", None) is not None:
        return "baseline-cache"
    return None


def run_logging(wrapper: Any, coro: Coroutine[Any, Any, Any]) -> Any:
    """What ``asyncio.run(coro)`` in LiteLLM's method does, on a reused loop where that is exact."""
    run = _orig["globals"]["asyncio"].run  # as LiteLLM's method reads it (a double included)
    logging_obj = wrapper.logging_obj
    reason = "asyncio-run-replaced" if run is not _orig["asyncio_run"] else None
    reason = reason or _why_not(logging_obj) or reused_loop.why_not()
    if reason is not None:
        _tally.fell_back(reason)
        return run(coro)
    _tally.fast()
    return reused_loop.run(coro, keep=lambda: _why_not(logging_obj) is None)


# -- contract, install, uninstall ----------------------------------------------------------------


def _problems() -> list[str]:
    import asyncio

    installed = _orig.get("installed")
    replaced = {_REPLACES[0]: (installed, _orig[_METHOD])} if installed is not None else {}
    out = reused_loop.problems() + pin_problems(_PINNED, replaced)
    if asyncio.run is not asyncio.runners.run:
        out.append("asyncio.run is not asyncio's own (a test double or an override)")
    return out


def _install() -> None:
    import asyncio

    import litellm
    from litellm.litellm_core_utils import litellm_logging
    from litellm.litellm_core_utils import streaming_handler as sh

    if _orig.get("installed"):
        return
    g = vars(sh)
    cls = sh.CustomStreamWrapper
    _orig.clear()
    _orig.update(
        {
            _METHOD: cls.__dict__[_METHOD],
            "globals": g,
            "litellm": litellm,
            "asyncio_run": asyncio.run,
            "async_success_handler": litellm_logging.Logging.async_success_handler,
            "_async_success_handler_body": litellm_logging.Logging._async_success_handler_body,
        }
    )
    fn = _stream_logging_code.methods(run_logging)[_METHOD]
    theirs = _orig[_METHOD].__code__
    # Laid out line for line as LiteLLM's, so tracebacks read as its own.
    code = fn.__code__.replace(
        co_filename=theirs.co_filename, co_firstlineno=theirs.co_firstlineno, co_qualname=theirs.co_qualname
    )
    rebound = types.FunctionType(code, g, _METHOD, fn.__defaults__, fn.__closure__)
    rebound.__qualname__ = f"CustomStreamWrapper.{_METHOD}"
    rebound.__doc__ = fn.__doc__
    _orig["installed"] = rebound
    setattr(cls, _METHOD, rebound)


def _uninstall() -> None:
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    installed = _orig.pop("installed", None)
    if installed is not None and CustomStreamWrapper.__dict__.get(_METHOD) is installed:
        setattr(CustomStreamWrapper, _METHOD, _orig[_METHOD])


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="stream_logging",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
