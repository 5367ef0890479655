"""``python -m edgequake_litellm doctor``: versions, provider table and a self-test.

Prints what is installed (edgequake-litellm, the compiled core, Python, LiteLLM and the LiteLLM
range this distribution declares), the core's provider table, then runs three calls against the
local mock upstream. Exit code 0 when every check is OK, 1 otherwise.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from typing import Any, Callable

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

DIST = "edgequake-litellm"
_MESSAGES = [{"role": "user", "content": "doctor self-test"}]


def _litellm_requirement() -> str | None:
    """The ``Requires-Dist`` specifier for litellm of the installed distribution, e.g. ``>=1.109.0,<1.111``."""
    from importlib import metadata

    try:
        requires = metadata.requires(DIST) or []
    except metadata.PackageNotFoundError:
        return None
    for line in requires:
        req, _, marker = line.partition(";")
        if marker.strip():  # an extra (test, ...), not a runtime dependency
            continue
        m = re.match(r"\s*litellm\s*(?:\[[^\]]*\])?\s*([(<>=!~].*)?$", req, re.IGNORECASE)
        if m:
            return (m.group(1) or "").strip().strip("()").strip()
    return None


def _in_range(version: str, spec: str) -> bool | None:
    """Whether ``version`` satisfies ``spec``; ``None`` when it cannot be told."""
    try:
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(spec).contains(version, prereleases=True)
    except ImportError:
        pass

    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", v)[:3])

    ops: dict[str, Callable[[str], bool]] = {
        ">=": lambda b: key(version) >= key(b),
        ">": lambda b: key(version) > key(b),
        "<=": lambda b: key(version) <= key(b),
        "<": lambda b: key(version) < key(b),
        "==": lambda b: version.startswith(b[:-1]) if b.endswith("*") else key(version) == key(b),
        "!=": lambda b: not version.startswith(b[:-1]) if b.endswith("*") else key(version) != key(b),
    }
    try:
        for clause in filter(None, (c.strip() for c in spec.split(","))):
            m = re.match(r"(>=|<=|==|!=|>|<)\s*(\S+)$", clause)
            if m is None:
                return None
            if not ops[m.group(1)](m.group(2)):
                return False
    except ValueError:
        return None
    return True


def _versions() -> None:
    from importlib import metadata

    from . import __version__, _core

    print("versions")
    print(f"  edgequake-litellm  {__version__}")
    print(f"  compiled core      {_core.__version__}  ({getattr(_core, '__file__', '?')})")
    print(f"  python             {platform.python_version()}  ({sys.executable})")
    try:
        installed: str | None = metadata.version("litellm")
    except metadata.PackageNotFoundError:
        installed = None
    print(f"  litellm            {installed or 'not installed'}")
    spec = _litellm_requirement()
    if spec is None:
        print("  supported litellm  unknown (no Requires-Dist for litellm in the installed metadata)")
    else:
        inside = None if installed is None else _in_range(installed, spec)
        verdict = {True: "installed version is inside", False: "installed version is OUTSIDE", None: "unknown"}
        print(f"  supported litellm  {spec}  ({verdict[inside]})")
    _transparent()


def _transparent() -> None:
    try:
        from ._contract import problems

        found = problems()
    except Exception as exc:  # no LiteLLM, or one that cannot be inspected
        print(f"  transparent mode   cannot be installed ({type(exc).__name__}: {exc})")
        return
    if found:
        print("  transparent mode   cannot be installed on this LiteLLM:")
        for p in found:
            print(f"                       - {p}")
    else:
        print("  transparent mode   can be installed on this LiteLLM (install(patch=True))")


def _providers() -> None:
    from . import _core

    rows = [("name", "body", "auth", "chat", "embeddings")]
    for name, info in sorted(_core.providers().items()):
        chat = "yes" if info.get("chat_path") else "no"
        emb = "yes" if info.get("embeddings_path") else "no"
        rows.append((name, str(info.get("body", "?")), str(info.get("auth", "?")), chat, emb))
    # Each column as wide as its longest cell plus two spaces, so no value runs into the next.
    widths = [max(len(row[i]) for row in rows) + 2 for i in range(len(rows[0]) - 1)]
    print("\nproviders")
    for row in rows:
        print("  " + "".join(cell.ljust(w) for cell, w in zip(row, widths)) + row[-1])


def _check(name: str, fn: Callable[[], str]) -> bool:
    t0 = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as exc:  # a self-test reports, it does not raise
        detail = f"{type(exc).__name__}: {exc}"
        ok = False
    ms = (time.perf_counter() - t0) * 1000
    print(f"  {'OK  ' if ok else 'FAIL'} {name:<50}{ms:8.1f} ms  {detail}")
    return ok


def _self_test() -> bool:
    print("\nself-test (local mock upstream on 127.0.0.1)")
    try:
        import litellm

        import edgequake_litellm
        from edgequake_litellm.mock_upstream import MockUpstream
    except Exception as exc:
        print(f"  FAIL import litellm / edgequake_litellm: {type(exc).__name__}: {exc}")
        return False

    litellm.suppress_debug_info = True
    results: list[bool] = []
    with MockUpstream() as upstream:
        common: dict[str, Any] = {"api_key": "sk-doctor", "api_base": upstream.base_url()}

        def install() -> str:
            edgequake_litellm.install()
            if not edgequake_litellm.is_installed():
                raise RuntimeError("install() did not register the provider")
            return "provider 'edgequake' registered"

        def plugin_completion() -> str:
            r = litellm.completion(model="edgequake/openai/gpt-4o-mini", messages=_MESSAGES, **common)
            text = r.choices[0].message.content
            if not text:
                raise RuntimeError("empty completion")
            return f"{len(text)} chars"

        def plugin_stream() -> str:
            parts = [
                c.choices[0].delta.content or ""
                for c in litellm.completion(
                    model="edgequake/openai/gpt-4o-mini", messages=_MESSAGES, stream=True, **common
                )
            ]
            if not "".join(parts):
                raise RuntimeError("empty stream")
            return f"{len(parts)} chunks"

        def direct_completion() -> str:
            r = edgequake_litellm.completion(model="openai/gpt-4o-mini", messages=_MESSAGES, **common)
            text = r.choices[0].message.content
            if not text:
                raise RuntimeError("empty completion")
            return f"{len(text)} chars"

        results.append(_check("edgequake_litellm.install()", install))
        results.append(_check("litellm.completion edgequake/openai/gpt-4o-mini", plugin_completion))
        results.append(_check("litellm.completion edgequake/... stream=True", plugin_stream))

        def transparent_completion() -> str:
            from . import _patch

            before = edgequake_litellm.status()["served_by_rust"]
            edgequake_litellm.install(patch=True)
            try:
                r = litellm.completion(model="openai/gpt-4o-mini", messages=_MESSAGES, **common)
            finally:
                _patch.uninstall()
            if edgequake_litellm.status()["served_by_rust"] != before + 1:
                raise RuntimeError(f"not served by the core: {edgequake_litellm.status()['calls']}")
            return f"{len(r.choices[0].message.content or '')} chars, served by the Rust core"

        results.append(_check("edgequake_litellm.completion openai/gpt-4o-mini", direct_completion))
        results.append(_check("install(patch=True); litellm.completion openai/...", transparent_completion))
    return all(results)


def run() -> int:
    _versions()
    try:
        _providers()
        providers_ok = True
    except Exception as exc:
        print(f"  FAIL provider table: {type(exc).__name__}: {exc}")
        providers_ok = False
    ok = _self_test() and providers_ok
    print("\nall checks OK" if ok else "\nsome checks FAILED")
    return 0 if ok else 1
