"""Type stub of the compiled Rust core (``edgequake_litellm._core``)."""

from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping, Sequence
from typing import Any, Literal, final

__version__: str

__all__ = [
    "__version__",
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
]

_Op = Literal["chat", "chat_stream", "embed"]
_Kind = Literal["status", "timeout", "connection", "decode", "invalid_request", "too_large", "internal"]

class CoreError(Exception):
    """An error from the Rust core; ``args`` are ``(message, kind, status, headers, body)``."""

    def __init__(
        self,
        message: str,
        kind: str = ...,
        status: int | None = ...,
        headers: list[tuple[str, str]] | None = ...,
        body: str | None = ...,
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
    def message(self) -> str: ...

@final
class ChatStream:
    """A streamed chat completion; yields lists of parsed chunk dicts as they arrive."""

    status: int
    @property
    def headers(self) -> dict[str, str]: ...
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
) -> Any:
    """One upstream call with the GIL released: ``(body, headers, status)`` or a ``ChatStream``.

    ``body``, when given, is a request body already built (by LiteLLM's provider transform)
    and is sent as is; otherwise the core writes ``{model, messages|input, **params}``.
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
) -> Awaitable[Any]:
    """``request`` as an asyncio awaitable."""

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
) -> Awaitable[tuple[int, list[tuple[str, str]], bytes | ByteStream]]:
    """``send`` as an asyncio awaitable."""

def providers() -> dict[str, dict[str, Any]]:
    """The provider table: sources of base URL and key, auth style, endpoint paths."""

def _at_exit() -> None:
    """Stop delivering results to an exiting interpreter (registered with atexit)."""

def _debug_panic(mode: Literal["sync", "async"]) -> Any:
    """Test hook (needs EDGEQUAKE_DEBUG_HOOKS=1): panic inside the core."""
