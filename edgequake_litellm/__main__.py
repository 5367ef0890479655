"""``python -m edgequake_litellm [command]``: the demo, the doctor and the local mock upstream."""

from __future__ import annotations

import sys
from collections.abc import Callable

_HELP = """\
usage: python -m edgequake_litellm [command] [options]

commands:
  demo            run LiteLLM with the plugin against a local mock upstream on 127.0.0.1
                  (completion, stream, tool call, embedding, per-call time vs native); the default
  doctor          print versions, whether transparent mode can be installed on this LiteLLM, the
                  core's provider table, and a self-test; exit code 0 when every check passes
  mock-upstream   serve the OpenAI-compatible mock upstream until interrupted
                  (options: --host 127.0.0.1 --port 0; prints "listening on <url>")
  help            show this help (also -h, --help)

Nothing is sent beyond 127.0.0.1. demo and doctor set LITELLM_LOCAL_MODEL_COST_MAP=True when it
is unset, so LiteLLM uses its bundled price map instead of fetching one at import.
More: README.md and docs/ in the source distribution."""


def _demo(_args: list[str]) -> int:
    from ._demo import run

    return run()


def _doctor(_args: list[str]) -> int:
    from ._doctor import run

    return run()


def _mock_upstream(args: list[str]) -> int:
    from .mock_upstream import main as serve

    serve(args)
    return 0


_COMMANDS: dict[str, Callable[[list[str]], int]] = {"demo": _demo, "doctor": _doctor, "mock-upstream": _mock_upstream}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command, rest = (args[0], args[1:]) if args else ("demo", [])
    if command in ("help", "-h", "--help"):
        print(_HELP)
        return 0
    run = _COMMANDS.get(command)
    if run is None:
        print(
            f"python -m edgequake_litellm: unknown command {command!r} (try: python -m edgequake_litellm --help)",
            file=sys.stderr,
        )
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
