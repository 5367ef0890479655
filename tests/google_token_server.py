"""A local Google OAuth token endpoint for the Vertex AI tests: a test service account (an RSA key
made here) whose ``token_uri`` is this server, which answers the JWT-bearer exchange google-auth
makes (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``) after checking the assertion's
RS256 signature. Binds 127.0.0.1 only."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TOKEN = "ya29.edgequake-local-test-token"
PROJECT = "edgequake-test-project"
_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_AUDIENCE = "https://oauth2.googleapis.com/token"


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class TokenServer:
    """``with TokenServer() as t: ... t.service_account ... t.exchanges``."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.exchanges: list[dict[str, Any]] = []  # the verified claims of each assertion
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as separate writes: without this, Nagle's algorithm and
            # the client's delayed ACK hold each answer ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                form = parse_qs(self.rfile.read(int(self.headers.get("content-length") or 0)).decode())
                claims = owner._verified(form)
                if claims is None:
                    return self._reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
                with owner._lock:
                    owner.exchanges.append(claims)
                return self._reply(200, {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"})

            def _reply(self, status: int, obj: dict) -> None:
                payload = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.token_uri = f"http://127.0.0.1:{self._server.server_address[1]}/token"
        self.service_account = {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "edgequake-test-key",
            "private_key": pem,
            "client_email": f"tester@{PROJECT}.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "token_uri": self.token_uri,
        }
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _verified(self, form: dict[str, list[str]]) -> dict[str, Any] | None:
        if form.get("grant_type") != [_GRANT] or len(form.get("assertion", [])) != 1:
            return None
        try:
            head, body, signature = form["assertion"][0].split(".")
            self._public.verify(_b64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
            claims = json.loads(_b64(body))
        except Exception:  # noqa: BLE001 - any malformed or wrongly signed assertion is refused
            return None
        # google-auth addresses the assertion to Google's token endpoint whatever ``token_uri`` is.
        ok = claims.get("iss") == self.service_account["client_email"] and claims.get("aud") == _AUDIENCE
        return claims if ok else None

    def __enter__(self) -> TokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def take(self) -> list[dict[str, Any]]:
        with self._lock:
            seen, self.exchanges = self.exchanges, []
        return seen
