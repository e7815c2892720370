"""Write a mission document (a dict as ``tomllib`` reads it) back as TOML text.

Used to turn one campaign run (the mission with that run's overrides and seed, ``engine.sweep``) into a
plain mission file, so the console can open and record it like any other. Top-level tables become
``[table]`` sections and arrays of tables ``[[table]]`` sections; anything nested deeper is written inline.
``tomllib.loads(dumps(document)) == document`` for every document tomllib can produce.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE.match(key) else _string(key)


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items()) + "}" if value else "{}"
    raise TypeError(f"cannot write a {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def dumps(document: dict[str, Any]) -> str:
    """TOML text of `document`."""
    head, body = [], []
    for key, value in document.items():
        if isinstance(value, dict):
            body.append(f"\n[{_key(key)}]")
            body.extend(f"{_key(str(k))} = {_value(v)}" for k, v in value.items())
        elif _is_table_array(value):
            for item in value:
                body.append(f"\n[[{_key(key)}]]")
                body.extend(f"{_key(str(k))} = {_value(v)}" for k, v in item.items())
        else:
            head.append(f"{_key(key)} = {_value(value)}")
    return "\n".join(head + body).lstrip("\n") + "\n"
