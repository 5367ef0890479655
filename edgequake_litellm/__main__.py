"""``python -m edgequake_litellm demo``: the plugin end to end against the local mock upstream."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "demo"
    if command == "demo":
        from ._demo import run

        return run()
    print(f"usage: python -m edgequake_litellm demo   (unknown command {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
