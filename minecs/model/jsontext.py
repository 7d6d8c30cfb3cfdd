"""JSON text on the hot paths (the ECS front end's requests and answers, the store's bodies): orjson.

Why a dependency: under the mixed 200-client load the stdlib's encoder and decoder were about a
fourteenth of the controller's CPU; orjson does the same in C several times faster, and is widely
used and kept. The one difference that could matter is kept as the stdlib has it: keys that are not
strings are written as strings. (NaN, which the stdlib writes as invalid JSON, is written as null.)
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def dumps_text(value: Any) -> str:
    """``value`` as compact JSON text (what the store keeps)."""
    return dumps(value).decode()


def loads(text: bytes | str) -> Any:
    """The value of JSON ``text``; ``ValueError`` (orjson's JSONDecodeError) if it is not JSON."""
    return orjson.loads(text)
