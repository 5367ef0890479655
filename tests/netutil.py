"""Local network pieces for the TLS, proxy and redirect tests: a private certificate
authority, a TLS front that terminates HTTPS in front of the mock upstream, and a
recording HTTP proxy (CONNECT tunnels and plain absolute-form forwarding). All bind to
127.0.0.1 and run on one asyncio loop in a daemon thread."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Pki:
    """A private CA and server certificates it signed, as PEM files."""

    ca: Path  # the CA certificate: the bundle a client must trust
    other_ca: Path  # an unrelated CA: trusting it must not make the server trusted
    cert: Path  # leaf for DNS:localhost and IP:127.0.0.1
    key: Path
    cert_localhost_only: Path  # leaf for DNS:localhost only (hostname mismatch on 127.0.0.1)


def make_pki(directory: Path) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def ca(cn: str) -> tuple[Any, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(cn))
            .issuer_name(name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid[0])
            .not_valid_after(valid[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cert, key

    def leaf(ca_cert: Any, ca_key: Any, key: Any, sans: list[x509.GeneralName]) -> Any:
        return (
            x509.CertificateBuilder()
            .subject_name(name("edgequake test server"))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid[0])
            .not_valid_after(valid[1])
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )

    def pem(cert: Any) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    ca_cert, ca_key = ca("edgequake test CA")
    other_cert, _ = ca("edgequake unrelated CA")
    key = ec.generate_private_key(ec.SECP256R1())
    both = leaf(ca_cert, ca_key, key, [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    only = leaf(ca_cert, ca_key, key, [x509.DNSName("localhost")])
    pki = Pki(
        ca=directory / "ca.pem",
        other_ca=directory / "other-ca.pem",
        cert=directory / "server.pem",
        key=directory / "server-key.pem",
        cert_localhost_only=directory / "server-localhost.pem",
    )
    pki.ca.write_bytes(pem(ca_cert))
    pki.other_ca.write_bytes(pem(other_cert))
    pki.cert.write_bytes(pem(both))
    pki.cert_localhost_only.write_bytes(pem(only))
    pki.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pki


class LoopThread:
    """An asyncio loop in a daemon thread; servers are started on it with ``run``."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def stop(self) -> None:
        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(drain())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _splice(
    a: tuple[asyncio.StreamReader, asyncio.StreamWriter], b: tuple[asyncio.StreamReader, asyncio.StreamWriter]
) -> None:
    await asyncio.gather(_pipe(a[0], b[1]), _pipe(b[0], a[1]))


async def _serve(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]], ssl_ctx: ssl.SSLContext | None
) -> tuple[asyncio.AbstractServer, int]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Cancelled at shutdown, or the peer went away: end quietly either way.
        try:
            await handler(reader, writer)
        except (asyncio.CancelledError, ConnectionError, OSError, asyncio.IncompleteReadError):
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0, ssl=ssl_ctx)
    return server, server.sockets[0].getsockname()[1]


class TlsFront:
    """HTTPS on 127.0.0.1 in front of a plain HTTP upstream: TLS is terminated here and the
    bytes spliced to ``upstream`` (host, port). Counts the handshakes that completed."""

    def __init__(self, loop: LoopThread, cert: Path, key: Path, upstream: tuple[str, int]) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.upstream = upstream
        self.handshakes = 0
        self.server, self.port = loop.run(_serve(self._handle, ctx))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.handshakes += 1
        try:
            up = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        await _splice((reader, writer), up)

    def base_url(self, host: str = "localhost", scenario: str | None = None) -> str:
        path = "/v1" if scenario is None else f"/s/{scenario}/v1"
        return f"https://{host}:{self.port}{path}"


class RecordingProxy:
    """An HTTP proxy that records what it was asked: ``("CONNECT", "host:port")`` for a
    tunnel, ``("FORWARD", "http://host:port/path")`` for each absolute-form request, which
    it forwards in origin form. ``GET /_records`` (origin form, not proxied) returns them."""

    def __init__(self, loop: LoopThread) -> None:
        self.records: list[tuple[str, str]] = []
        self.server, self.port = loop.run(_serve(self._handle, None))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _head(self, reader: asyncio.StreamReader) -> tuple[str, list[bytes]] | None:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return None
        lines = raw.split(b"\r\n")[:-2]
        return lines[0].decode("latin-1"), lines[1:]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await self._head(reader)
        if head is None:
            writer.close()
            return
        method, target, _ = head[0].split(" ", 2)
        if method == "CONNECT":
            self.records.append(("CONNECT", target))
            host, _, port = target.rpartition(":")
            up = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await _splice((reader, writer), up)
        elif target.startswith("http://"):
            await self._forward(reader, writer, head)
        else:
            body = json.dumps(self.records).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            writer.close()

    async def _forward(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: tuple[str, list[bytes]]
    ) -> None:
        from urllib.parse import urlsplit

        first = urlsplit(head[0].split(" ")[1])
        up_reader, up_writer = await asyncio.open_connection(first.hostname, first.port or 80)
        back = asyncio.ensure_future(_pipe(up_reader, writer))
        current: tuple[str, list[bytes]] | None = head
        while current is not None:
            method, target, version = current[0].split(" ", 2)
            self.records.append(("FORWARD", target))
            parts = urlsplit(target)
            origin = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = [h for h in current[1] if not h.lower().startswith(b"proxy-")]
            length = next((int(h.split(b":", 1)[1]) for h in headers if h.lower().startswith(b"content-length:")), 0)
            body = await reader.readexactly(length) if length else b""
            up_writer.write(f"{method} {origin} {version}\r\n".encode() + b"".join(h + b"\r\n" for h in headers))
            up_writer.write(b"\r\n" + body)
            await up_writer.drain()
            current = await self._head(reader)
        up_writer.close()
        await back


def fetch_records(proxy_url: str) -> list[list[str]]:
    """The proxy's records, fetched directly (http.client ignores proxy variables)."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(proxy_url)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=10)
    conn.request("GET", "/_records")
    return json.loads(conn.getresponse().read())


class Redirector:
    """Answers every request with ``status`` and ``Location: <target><path>``, recording the
    request head it got (so a test can see which credentials reached it)."""

    def __init__(self, loop: LoopThread, target: str, status: int = 307) -> None:
        self.target = target
        self.status = status
        self.heads: list[dict[str, str]] = []
        self.server, self.port = loop.run(_serve(self._handle, None))

    def base_url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            lines = raw.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
            await reader.readexactly(int(headers.get("content-length", "0")))
            path = lines[0].split(" ")[1]
            self.heads.append(headers)
            location = f"{self.target}{path.removeprefix('/v1')}"
            writer.write(
                f"HTTP/1.1 {self.status} Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
            )
            await writer.drain()
        writer.close()


class ScriptedUpstream:
    """Answers every request with the response a test sets (``status``, ``content_type``,
    ``body`` bytes), sent in ``pieces`` writes; closes after each response so no state
    carries over between examples."""

    def __init__(self, loop: LoopThread) -> None:
        self.status, self.content_type, self.body, self.pieces = 200, "application/json", b"{}", 1
        self.server, self.port = loop.run(_serve(self._handle, None))

    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(h.split(b":", 1)[1]) for h in raw.split(b"\r\n") if h.lower().startswith(b"content-length:")), 0
        )
        await reader.readexactly(length)
        ct = f"Content-Type: {self.content_type}\r\n" if self.content_type else ""
        head = f"HTTP/1.1 {self.status} X\r\n{ct}Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode("latin-1"))
        step = max(1, len(self.body) // max(1, self.pieces))
        for i in range(0, len(self.body), step):
            writer.write(self.body[i : i + step])
            await writer.drain()
        writer.close()
