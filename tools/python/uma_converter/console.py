"""log and die: every message of the converter goes to stderr prefixed `uma-convert:` so that callers
(make-test-models, make-fixtures) can tell whose message it is; a refusal exits with status 2."""
from __future__ import annotations

import sys


def log(msg: str) -> None:
    print(f"uma-convert: {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> None:
    print(f"uma-convert: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(2)

