"""``python -m edgequake_litellm [demo|doctor]``.

``demo`` runs the plugin end to end against the local mock upstream; ``doctor`` prints versions,
the provider table and a self-test (exit code 0 when every check passes).
"""

from __future__ import annotations

import sys

_USAGE = "usage: python -m edgequake_litellm [demo|doctor]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "demo"
    if command == "demo":
        from ._demo import run

        return run()
    if command == "doctor":
        from ._doctor import run as doctor

        return doctor()
    print(f"{_USAGE}   (unknown command {command!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
