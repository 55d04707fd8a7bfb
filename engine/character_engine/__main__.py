"""`python -m character_engine`          -> JSON-lines protocol server on stdin/stdout
`python -m character_engine serve ...`  -> OpenAI-compatible HTTP server (serve/)"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from .allocator import tune

    tune()  # before any tensor is allocated (see allocator.py)
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "serve":
        from .serve import main as serve_main

        return serve_main(args[1:])
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if args:
        print(f"unknown arguments: {' '.join(args)}\n{__doc__}", file=sys.stderr)
        return 2
    from .server import run_protocol_server

    return run_protocol_server()


if __name__ == "__main__":
    sys.exit(main())
