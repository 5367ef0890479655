"""The ``stream_chunks`` accelerator: LiteLLM's per-chunk stream work, without what no one observes.

``CustomStreamWrapper`` (``litellm_core_utils/streaming_handler.py``) runs, per chunk, work whose
result is thrown away. Three of its methods are replaced (``_stream_wrapper_code.py`` holds the two
copied from LiteLLM's source, rebound to that module's globals):

- ``__next__``: the sync iterator builds two ``print_verbose`` messages per chunk, ``str()`` of the
  upstream chunk and of the processed one (a pydantic repr of the whole chunk). ``print_verbose``
  prints only when ``litellm.set_verbose`` is set and swallows everything else; the f-string is
  evaluated by the caller before that check, so the only thing it can do when verbose is off is
  raise. The message is skipped only when verbose is off (``False`` or ``None``), ``print_verbose``
  is LiteLLM's own, and the value's ``str()`` provably neither raises nor runs user code: ``bytes``,
  ``str``, ``None``, or a pydantic model whose repr machinery is pydantic's/the OpenAI SDK's own
  (no computed fields), holding only ``str``/``bool``/``float``/``None``, ints of at most 19 digits
  (far below the int-to-str limit), lists, tuples, dicts and such models, at most 16 deep;
- ``chunk_creator``: for a ``ModelResponseStream`` from a custom provider (the ``edgequake/``
  route), LiteLLM builds a ``ModelResponseStream`` it never returns (``model_response_creator``),
  and parses the chunk's hidden params twice through a pydantic model. The fast path runs that
  branch's statements in LiteLLM's order without the discarded response (of which only the stream's
  first ``created`` lasts; the response id is set from the chunk) and parses hidden params without
  the model when neither key it reads is present. Every other chunk, a subclass or test double
  overriding any method or module function the branch calls, runs LiteLLM's own method;
- ``_accumulate_streamed_delta``: ``Delta.get`` goes through pydantic's ``__getattr__`` for each of
  nine fields per chunk; for an exact ``Delta`` with LiteLLM's attribute machinery the same values
  are read from the instance dict and the pydantic extras.

The source of every LiteLLM (and pydantic/OpenAI SDK repr) function this reasons about is pinned
in ``_PINNED`` (sha256 prefix): a LiteLLM that changed any of them keeps its own methods.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from .accelerator import Accelerator, Tally, pin_problems, resolve

_SH = "litellm.litellm_core_utils.streaming_handler"
_CSW = f"{_SH}.CustomStreamWrapper"
_REPLACED = ("__next__", "chunk_creator", "_accumulate_streamed_delta")
_REPLACES = tuple(f"{_CSW}.{name}" for name in _REPLACED)

# sha256 (first 16 hex digits) of the source of each function the fast paths reproduce or reason
# about, as read (LiteLLM 1.110.2, pydantic 2.14, openai SDK as pinned in requirements).
_PINNED = {
    f"{_CSW}.__next__": "5d2bdc687f9ca7b2",
    f"{_CSW}.chunk_creator": "bce5bd92929d173c",
    f"{_CSW}._accumulate_streamed_delta": "4ec698d2c13223f2",
    f"{_CSW}._delta_disqualifies_continuation": "d7d4bf97da93cfb4",
    f"{_CSW}.model_response_creator": "b3ca5b857767e996",
    f"{_CSW}._served_openrouter_model": "e3750552c925f7e9",
    f"{_CSW}._prebuilt_plain_delta": "2f626212a63b9dc3",
    f"{_CSW}._dispatch_provider_chunk": "980d87a6d6fbd10a",
    f"{_SH}.print_verbose": "cb6f06145d732071",
    f"{_SH}._provider_response_model": "aff5385130d50159",
    f"{_SH}._provider_upstream_provider": "cacebd691135048c",
    f"{_SH}._parsed_provider_hidden_params": "3b8de99e75406134",
    f"{_SH}._provider_hidden_params": "02f1d4fbd075e8af",
    "litellm.litellm_core_utils.hidden_params.get_hidden_params": "8241a99e4837d7c0",
    "litellm.llms.ollama.common_utils.OllamaResponseIdNormalizer.apply": "652a6e71240c4f40",
    "litellm.types.utils.ModelResponseStream.__init__": "42c280e5739fc9cb",
    "litellm.types.utils.generate_id": "a81f30ba1b0063d7",
    "litellm.types.utils.Delta.get": "f856bdf08f79ed58",
    "pydantic.BaseModel.__repr__": "79053c90e7863b82",
    "pydantic.BaseModel.__repr_args__": "b88ee429d67d0c04",
    "pydantic.BaseModel.__str__": "ff1f66b32e0a2961",
    "pydantic.BaseModel.__getattr__": "f5d7141bbf8d48f0",
    "pydantic._internal._repr.Representation.__repr_str__": "6c86c15e3901867e",
    "pydantic._internal._repr.Representation.__repr_name__": "380189e17a5aa228",
    "openai._models.BaseModel.__str__": "d0a53baf195b20e7",
}

# The wrapper's members the fast paths call, skip or read.
_CHUNK_METHODS = (
    "model_response_creator",
    "_served_openrouter_model",
    "_prebuilt_plain_delta",
    "_dispatch_provider_chunk",
    "_map_stream_exception",
)
_DELTA_MEMBERS = ("_delta_disqualifies_continuation", "_CONTINUATION_DISQUALIFYING_DELTA_FIELDS")
_MODULE_FUNCTIONS = (
    "print_verbose",
    "_provider_response_model",
    "_provider_upstream_provider",
    "_parsed_provider_hidden_params",
    "_provider_hidden_params",
    "_without_token_ids_under_post_call_rules",
    "get_hidden_params",
    "ModelResponseStream",
)
_DELTA_FIELDS = (
    "content",
    "tool_calls",
    "function_call",
    "reasoning_content",
    "thinking_blocks",
    "reasoning_items",
    "audio",
    "images",
    "annotations",
)
_HIDDEN_KEYS = ("provider_specific_fields", "upstream_provider")

_tally = Tally()
_orig: dict[str, Any] = {}  # what was installed over, and the objects the fast paths compare against


# -- print_verbose's message -------------------------------------------------------------------

_INT_BOUND = 1 << 63  # 19 digits; Python's int-to-str limit is at least 640
_MAX_DEPTH = 16


def _plain_repr(cls: type) -> bool:
    """Whether ``repr()``/``str()`` of a ``cls`` instance is pydantic's own, reading only the
    instance's fields and extras (no computed fields, no override anywhere in the MRO)."""
    try:
        return (
            cls.__repr__ is _orig["repr"]
            and cls.__repr_args__ is _orig["repr_args"]  # type: ignore[attr-defined]
            and cls.__repr_str__ is _orig["repr_str"]  # type: ignore[attr-defined]
            and cls.__repr_name__ is _orig["repr_name"]  # type: ignore[attr-defined]
            and cls.__str__ in _orig["strs"]
            and cls.__format__ is object.__format__
            and not cls.__pydantic_computed_fields__  # type: ignore[attr-defined]
        )
    except AttributeError:
        return False


def _inert(value: Any, depth: int) -> bool:
    """Whether ``repr(value)`` can neither raise nor run code other than builtins' and pydantic's."""
    t = type(value)
    if t is str or t is float or t is bool or value is None:
        return True
    if t is int:
        return -_INT_BOUND < value < _INT_BOUND
    if depth >= _MAX_DEPTH:
        return False
    depth += 1
    if t is list or t is tuple:
        for item in value:
            if not _inert(item, depth):
                return False
        return True
    if t is dict:
        for key, item in value.items():
            if not (_inert(key, depth) and _inert(item, depth)):
                return False
        return True
    if not _plain_repr(t):
        return False
    try:
        extra = object.__getattribute__(value, "__pydantic_extra__")
        fields = object.__getattribute__(value, "__dict__")
    except AttributeError:
        return False
    for item in fields.values():
        if not _inert(item, depth):
            return False
    if extra:
        for key, item in extra.items():
            if type(key) is not str or not _inert(item, depth):
                return False
    return True


def message_observable(value: Any, provider: Any = None) -> bool:
    """Whether building ``print_verbose``'s f-string about ``value`` (and ``provider``) could be
    observed: verbose on, a replaced ``print_verbose``, or a ``str()`` not proven inert."""
    g = _orig["globals"]
    if g["print_verbose"] is not _orig["print_verbose"]:
        _tally.fell_back("message:print_verbose-replaced")
        return True
    verbose = getattr(g["litellm"], "set_verbose", True)
    if not (verbose is False or verbose is None):
        _tally.fell_back("message:verbose")
        return True
    if not (provider is None or type(provider) is str):
        _tally.fell_back("message:provider")
        return True
    t = type(value)
    if t is bytes or t is str or value is None or _inert(value, 0):
        return False
    _tally.fell_back("message:value")
    return True


# -- chunk_creator for a custom provider's ModelResponseStream ----------------------------------


def _raw(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        found = klass.__dict__.get(name, _MISSING)
        if found is not _MISSING:
            return found
    return _MISSING


_MISSING = object()


def _unchanged(self: Any, names: tuple[str, ...]) -> bool:
    """Whether ``self`` resolves each of ``names`` to what ``CustomStreamWrapper`` defined at
    install (no subclass override, no test double on the class, no instance attribute)."""
    cls, own, bound = type(self), vars(self), _orig["bound"]
    for name in names:
        if name in own or _raw(cls, name) is not bound[name]:
            return False
    return True


def custom_stream_chunk(self: Any, chunk: Any) -> bool:
    g = _orig["globals"]
    if type(chunk) is not _orig["ModelResponseStream"]:
        return False  # not counted: the transparent route's chunks, LiteLLM's own path as designed
    provider = self.custom_llm_provider
    reason = None
    if provider is None or provider not in g["litellm"]._custom_providers:
        reason = "chunk:provider"
    elif not _unchanged(self, _CHUNK_METHODS):
        reason = "chunk:wrapper-overridden"
    elif any(g[name] is not _orig["globals_at_install"][name] for name in _MODULE_FUNCTIONS):
        reason = "chunk:module-function-replaced"
    elif (
        _orig["ModelResponseStream"].__init__ is not _orig["mrs_init"]
        or _orig["types_utils"].generate_id is not (_orig["generate_id"])
    ):
        reason = "chunk:response-class-replaced"
    elif type(self._ollama_response_ids).apply is not _orig["ollama_apply"]:
        reason = "chunk:ollama-replaced"
    if reason is None:
        _tally.fast()
        return True
    _tally.fell_back(reason)
    return False


def keeps_created_only(self: Any) -> bool:
    """Whether ``model_response_creator(...)``'s result being dropped leaves nothing but
    ``self.created`` to set: it cannot raise (the model name it validates is a ``str``) and the
    response id it would take is already set."""
    served = self._served_openrouter_model()
    model = served or self._cached_model_name
    return (
        self.response_id is not None
        and type(model) is str
        and (served is None or type(served) is str)
        and type(self._base_hidden_params) is dict
    )


def upstream_provider(chunk: Any) -> Any:
    """``_provider_upstream_provider(chunk)``: without pydantic when the hidden params hold neither
    key ``_ParsedChunkHiddenParams`` reads (it then validates to all-None: extras are ignored)."""
    g = _orig["globals"]
    hidden = g["get_hidden_params"](chunk)
    if type(hidden) is dict and not any(key in hidden for key in _HIDDEN_KEYS):
        return None
    return g["_provider_upstream_provider"](chunk)


# -- _accumulate_streamed_delta ------------------------------------------------------------------


def _accumulate_streamed_delta(self: Any, delta: Any) -> None:
    """LiteLLM's ``_accumulate_streamed_delta``: ``Delta.get(name)`` is ``getattr(delta, name,
    None)``, which for these names (no class attribute, no private attribute: checked at install)
    is the instance dict's value, else the pydantic extra's, else None."""
    if (
        type(delta) is not _orig["Delta"]
        or _orig["Delta"].get is not _orig["delta_get"]
        or not _unchanged(self, _DELTA_MEMBERS)
    ):
        _tally.fell_back("delta:shape")
        return _orig["_accumulate_streamed_delta"](self, delta)  # type: ignore[no-any-return]
    fields = object.__getattribute__(delta, "__dict__")
    extra = object.__getattribute__(delta, "__pydantic_extra__") or {}
    content = fields["content"] if "content" in fields else extra.get("content")
    self.response_uptil_now += content if isinstance(content, str) else ""
    if not self._emitted_disqualifying_content and any(
        (fields[name] if name in fields else extra.get(name)) for name in _DELTA_FIELDS[1:]
    ):
        self._emitted_disqualifying_content = True
    return None


# -- contract, install, uninstall ----------------------------------------------------------------


def _problems() -> list[str]:
    installed = _orig.get("installed") or {}
    out = pin_problems(_PINNED, {f"{_CSW}.{name}": (fn, _orig[name]) for name, fn in installed.items()})
    if out:
        return out
    from litellm.litellm_core_utils import streaming_handler as sh
    from litellm.types.utils import Delta

    if sh.CustomStreamWrapper._CONTINUATION_DISQUALIFYING_DELTA_FIELDS != _DELTA_FIELDS[1:]:
        out.append("CustomStreamWrapper._CONTINUATION_DISQUALIFYING_DELTA_FIELDS changed")
    for name in _DELTA_FIELDS:
        if hasattr(Delta, name) or name in Delta.__private_attributes__:
            out.append(f"Delta.{name} is a class or private attribute")
    if getattr(Delta, "__getattr__", None) is not resolve("pydantic.BaseModel.__getattr__"):
        out.append("Delta.__getattr__ is not pydantic's")
    if Delta.__getattribute__ is not object.__getattribute__:
        out.append("Delta.__getattribute__ is not object's")
    if sh._ParsedChunkHiddenParams.model_config.get("extra", "ignore") != "ignore":
        out.append("_ParsedChunkHiddenParams no longer ignores extra keys")
    if set(sh._ParsedChunkHiddenParams.model_fields) != set(_HIDDEN_KEYS):
        out.append("_ParsedChunkHiddenParams reads other keys")
    return out


def _install() -> None:
    from litellm.litellm_core_utils import streaming_handler as sh
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper
    from litellm.llms.ollama.common_utils import OllamaResponseIdNormalizer
    from litellm.types import utils as types_utils

    from . import _stream_wrapper_code

    if _orig.get("installed"):
        return
    g = vars(sh)
    _orig.clear()
    for name in _REPLACED:
        _orig[name] = CustomStreamWrapper.__dict__[name]
    _orig.update(
        globals=g,
        globals_at_install={name: g[name] for name in _MODULE_FUNCTIONS},
        print_verbose=g["print_verbose"],
        ModelResponseStream=types_utils.ModelResponseStream,
        mrs_init=types_utils.ModelResponseStream.__init__,
        types_utils=types_utils,
        generate_id=types_utils.generate_id,
        ollama_apply=OllamaResponseIdNormalizer.apply,
        Delta=types_utils.Delta,
        delta_get=types_utils.Delta.get,
        repr=resolve("pydantic.BaseModel.__repr__"),
        repr_args=resolve("pydantic.BaseModel.__repr_args__"),
        repr_str=resolve("pydantic._internal._repr.Representation.__repr_str__"),
        repr_name=resolve("pydantic._internal._repr.Representation.__repr_name__"),
        strs=(resolve("pydantic.BaseModel.__str__"), resolve("openai._models.BaseModel.__str__")),
        bound={name: _raw(CustomStreamWrapper, name) for name in _CHUNK_METHODS + _DELTA_MEMBERS},
    )
    built = _stream_wrapper_code.methods(
        message_observable, custom_stream_chunk, keeps_created_only, upstream_provider, _orig["chunk_creator"]
    )
    installed: dict[str, Callable[..., Any]] = {}
    for name, fn in built.items():
        code = fn.__code__
        if name == "__next__":  # laid out line for line as LiteLLM's: tracebacks read the same
            theirs = _orig[name].__code__
            code = code.replace(
                co_filename=theirs.co_filename,
                co_firstlineno=theirs.co_firstlineno,
                co_qualname=theirs.co_qualname,
            )
        # LiteLLM's globals, so the copy reads what LiteLLM's own method reads (test doubles too)
        rebound = types.FunctionType(code, g, name, fn.__defaults__, fn.__closure__)
        rebound.__qualname__ = f"CustomStreamWrapper.{name}"
        rebound.__doc__ = fn.__doc__
        installed[name] = rebound
    installed["_accumulate_streamed_delta"] = _accumulate_streamed_delta
    _orig["installed"] = installed
    for name, fn in installed.items():
        setattr(CustomStreamWrapper, name, fn)


def _uninstall() -> None:
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    installed = _orig.get("installed") or {}
    for name, fn in installed.items():
        if CustomStreamWrapper.__dict__.get(name) is fn:
            setattr(CustomStreamWrapper, name, _orig[name])
    _orig.pop("installed", None)


counts = _tally.counts
reset_counts = _tally.reset


ACCELERATOR = Accelerator(
    name="stream_chunks",
    replaces=_REPLACES,
    problems=_problems,
    install=_install,
    uninstall=_uninstall,
    counts=counts,
)
