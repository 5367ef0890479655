"""LiteLLM's certificate check, resolved into what the core takes: ``False`` (no check) or
the path of the CA bundle to trust exclusively.

LiteLLM's own ``get_ssl_verify`` reads ``litellm.ssl_verify``, ``SSL_VERIFY`` (a bundle path
or a bool as text) and ``SSL_CERT_FILE``; what it leaves at ``True`` becomes certifi's
bundle, as in LiteLLM's ``get_ssl_configuration`` (which builds an ``SSLContext`` rustls
cannot use, so that last step is repeated here). ``REQUESTS_CA_BUNDLE`` is not read, as
LiteLLM does not read it.
"""

from __future__ import annotations

import os

# Resolution costs a stat and LiteLLM's imports (~15 us); the answer only changes with its
# inputs, so it is kept per input (as LiteLLM keeps a client per SSL setting).
_resolved: dict[tuple[object, ...], bool | str] = {}


def ssl_verify() -> bool | str:
    import litellm

    key = (litellm.ssl_verify, os.environ.get("SSL_VERIFY"), os.environ.get("SSL_CERT_FILE"))
    try:
        return _resolved[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable setting: resolve every time
        return _resolve()
    if len(_resolved) >= 32:
        _resolved.clear()
    value = _resolved[key] = _resolve()
    return value


def _resolve() -> bool | str:
    import certifi
    from litellm.llms.custom_httpx.http_handler import get_ssl_verify

    # An SSLContext in litellm.ssl_verify falls through to the default: LiteLLM 1.110.2's
    # get_ssl_configuration only uses a context passed to it, not a global one.
    verify = get_ssl_verify()
    if verify is False:
        return False
    if isinstance(verify, str) and os.path.exists(verify):
        return verify
    cert_file = os.getenv("SSL_CERT_FILE")
    if cert_file and os.path.exists(cert_file):
        return cert_file
    return certifi.where()


def httpx_default() -> str | None:
    """What an httpx client built with its defaults trusts (``verify=True``, ``trust_env``):
    ``SSL_CERT_FILE``, else certifi's bundle; None for ``SSL_CERT_DIR`` (a directory, which the
    core does not take). LiteLLM builds such clients for some SDK calls (text completions),
    where its own TLS settings do not apply."""
    import certifi

    cert_file = os.environ.get("SSL_CERT_FILE")
    if cert_file:
        return cert_file
    return None if os.environ.get("SSL_CERT_DIR") else certifi.where()
