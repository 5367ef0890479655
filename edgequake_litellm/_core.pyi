"""Type stub of the compiled Rust core (``edgequake_litellm._core``)."""

import concurrent.futures
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal, final

__version__: str
# sha256 prefix of the crate sources `make build` compiled (empty when built otherwise)
__source_digest__: str

__all__ = [
    "__version__",
    "__source_digest__",
    "CoreError",
    "ChatStream",
    "ByteStream",
    "request",
    "arequest",
    "send",
    "asend",
    "providers",
    "_at_exit",
    "_debug_panic",
    "_pending_deliveries",
]

_Op = Literal["chat", "chat_stream", "embed"]
_Kind = Literal[
    "status",
    "timeout",
    "connection",
    "decode",
    "invalid_request",
    "too_large",
    "internal",
    "unsupported",
    "stream_error",
    "not_served",
]

class CoreError(Exception):
    """An error from the Rust core; ``args`` are ``(message, kind, status, headers, body, reason)``."""

    def __init__(
        self,
        message: str,
        kind: str = ...,
        status: int | None = ...,
        headers: list[tuple[str, str]] | None = ...,
        body: str | None = ...,
        reason: str | None = ...,
        /,
    ) -> None: ...
    @property
    def kind(self) -> _Kind: ...
    @property
    def status(self) -> int | None: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> str | None: ...
    @property
    def reason(self) -> str | None:
        """The reason phrase of the upstream's status line, when it answered."""
    @property
    def message(self) -> str: ...

@final
class ChatStream:
    """A streamed chat completion; yields lists of parsed chunk dicts as they arrive (the first
    list holds the first chunk alone, so it is not held up by decoding the rest)."""

    status: int
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def finished_by_done(self) -> bool: ...
    def __iter__(self) -> Iterator[list[dict[str, Any]]]: ...
    def __next__(self) -> list[dict[str, Any]]: ...
    def __aiter__(self) -> AsyncIterator[list[dict[str, Any]]]: ...
    def __anext__(self) -> Awaitable[list[dict[str, Any]]]: ...
    def close(self) -> None: ...

def request(
    op: _Op,
    provider: str,
    model: str,
    payload: Sequence[Any] | str,
    params: Mapping[str, Any] | None = None,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    body: Mapping[str, Any] | None = None,
    native: Mapping[str, Any] | None = None,
    ssl_verify: bool | str | None = None,
    retry_count_header: str | None = None,
    url: str | None = None,
    content: bytes | None = None,
    rebuild: Callable[[int], tuple[str, Mapping[str, str], bytes]] | None = None,
) -> Any:
    """One upstream call with the GIL released: ``(body, headers, status)`` or a ``ChatStream``.

    ``body``, when given, is a request body already built (by LiteLLM's provider transform)
    and is sent as is; otherwise the core writes ``{model, messages|input, **params}``.
    For the translated families (``providers()[p]["family"]`` is ``"anthropic"`` or
    ``"gemini"``) the core translates the OpenAI-format call to the provider's API and the
    reply (or stream) back to OpenAI-shaped dicts; ``native`` carries what LiteLLM reads from
    its model map (Anthropic: ``default_max_tokens``, ``metadata_user_id``, and the capability
    flags ``adaptive_thinking``, ``no_sampling_params``, ``no_forced_tool_use``; Gemini: the
    flags ``penalties``, ``sampling``, ``v1alpha``, ``default_output_budget``,
    ``safety_settings``). A call it does not translate raises ``CoreError(kind="unsupported")``
    before anything is sent.

    ``ssl_verify``: ``False`` disables certificate checks, a path is the only CA bundle
    trusted, ``True``/``None`` use the platform trust store. ``retry_count_header`` names a
    header set on each attempt to the number of retries already taken (the OpenAI SDK's
    ``x-stainless-retry-count``). An ``Accept-Encoding`` in ``headers`` is reduced to the
    codings the core decodes (gzip, deflate).

    ``url`` with ``content``: a request another client built (the OpenAI SDK's URL with its
    query, its headers, its body bytes), sent exactly so: no key, auth or provider headers
    are added, ``provider``, ``model``, ``payload`` and ``params`` are not read; the answer is
    read as the OpenAI wire (streams with the SDK's decoder). ``rebuild`` (with ``url``):
    called with the attempt number before each retry, after the retry's wait, returning that
    attempt's ``(url, headers, content)`` (the OpenAI SDK prepares each attempt anew: a token
    provider is asked again); what it raises is raised as is.
    """

def arequest(
    op: _Op,
    provider: str,
    model: str,
    payload: Sequence[Any] | str,
    params: Mapping[str, Any] | None = None,
    *,
    api_key: str | None = None,
    api_base: str | None = None,
    api_version: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    body: Mapping[str, Any] | None = None,
    native: Mapping[str, Any] | None = None,
    ssl_verify: bool | str | None = None,
    retry_count_header: str | None = None,
    url: str | None = None,
    content: bytes | None = None,
    rebuild: Callable[[int], concurrent.futures.Future[tuple[str, Mapping[str, str], bytes]]] | None = None,
) -> Awaitable[Any]:
    """``request`` as an asyncio awaitable; ``rebuild`` returns a ``concurrent.futures.Future``
    of the retry's request (the core waits for it without holding the event loop)."""

@final
class ByteStream:
    """A response body still on the wire, in ``bytes`` pieces as they arrive."""

    def __iter__(self) -> Iterator[bytes]: ...
    def __next__(self) -> bytes: ...
    def __aiter__(self) -> AsyncIterator[bytes]: ...
    def __anext__(self) -> Awaitable[bytes]: ...
    def close(self) -> None: ...

def send(
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    timeout: float | None = None,
    stream: bool = False,
    ssl_verify: bool | str | None = None,
) -> tuple[int, list[tuple[str, str]], bytes | ByteStream]:
    """One raw exchange (POST only, no retries) with the GIL released: an HTTP error status is
    an answer, returned as such. ``stream=True`` hands the body over as a ``ByteStream``."""

def asend(
    method: str,
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    timeout: float | None = None,
    stream: bool = False,
    ssl_verify: bool | str | None = None,
) -> Awaitable[tuple[int, list[tuple[str, str]], bytes | ByteStream]]:
    """``send`` as an asyncio awaitable."""

def providers() -> dict[str, dict[str, Any]]:
    """The provider table: per provider, the sources of ``api_base``, ``api_key`` and
    ``api_version``, ``auth`` style, ``key_required``, ``chat_path``, ``embeddings_path``, its
    ``family`` (the wire it speaks: ``"openai"``, ``"anthropic"`` or ``"gemini"``) and who
    writes its ``body`` (``"core"``, or ``"litellm"``: LiteLLM's own transform)."""

def _at_exit() -> None:
    """Stop delivering results to an exiting interpreter (registered with atexit)."""

def _debug_panic(mode: Literal["sync", "async"]) -> Any:
    """Test hook (needs EDGEQUAKE_DEBUG_HOOKS=1): panic inside the core."""

def _pending_deliveries() -> int:
    """Awaitables' results queued for their loop's next drain, over every loop."""
