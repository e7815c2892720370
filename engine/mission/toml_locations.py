"""Line numbers for the key paths of a TOML document.

:mod:`tomllib` reports no positions, so a validation error on a parsed mission
file would have no line to point at.  :func:`key_lines` re-reads the (already
valid) text with a small character-level scanner and records the 1-based line
on which every key path is defined, using the same structure ``tomllib.loads``
produces: tables are keyed by name, arrays (including arrays of tables) by
0-based index.
"""

from __future__ import annotations

import string

KeyPath = tuple[str | int, ...]

_BARE_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}
_SCALAR_END = frozenset(",]}#\n\r")
_BLANK = frozenset(" \t")
_NEWLINE = frozenset("\n\r")


class _ScanError(Exception):
    """The text is not TOML this scanner can make sense of."""


class _Scanner:
    """Cursor over the text that tracks the current line and records key paths."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self._array_sizes: dict[KeyPath, int] = {}  # array of tables -> elements so far

    def _peek(self, offset: int = 0) -> str:
        """Character `offset` places ahead, or "" past the end."""
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def _at(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def _advance(self, count: int = 1) -> None:
        end = min(self.pos + count, len(self.text))
        self.line += self.text.count("\n", self.pos, end)
        self.pos = end

    def _expect(self, token: str) -> None:
        if not self._at(token):
            raise _ScanError(f"expected {token!r} on line {self.line}")
        self._advance(len(token))

    def _skip(self, newlines: bool = False) -> None:
        """Skip blanks and comments, and line breaks too when `newlines`."""
        while True:
            char = self._peek()
            if char in _BLANK or (newlines and char in _NEWLINE):
                self._advance()
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self._advance((len(self.text) if end < 0 else end) - self.pos)
            else:
                return

    def document(self) -> None:
        """Scan the whole text: a sequence of headers and key/value pairs."""
        table: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if not self._peek():
                return
            if self._peek() == "[":
                table = self._header()
            else:
                self._key_value(table)
            self._skip()
            if self._peek() not in _NEWLINE and self._peek():
                raise _ScanError(f"unexpected text on line {self.line}")

    def _header(self) -> KeyPath:
        """Scan ``[table]`` or ``[[array]]``; return the path later keys live under."""
        line = self.line
        is_array = self._at("[[")
        self._advance(2 if is_array else 1)
        self._skip()
        keys = self._key()
        self._expect("]]" if is_array else "]")
        path = self._resolve(keys[:-1], line) + (keys[-1],)
        if not is_array:
            self.lines[path] = line  # an explicit header beats an implicit earlier mention
            return path
        self.lines.setdefault(path, line)
        index = self._array_sizes.get(path, 0)
        self._array_sizes[path] = index + 1
        self.lines[path + (index,)] = line
        return path + (index,)

    def _resolve(self, keys: list[str], line: int) -> KeyPath:
        """Concrete path of a header's parent keys, entering the latest element of arrays of tables."""
        path: KeyPath = ()
        for key in keys:
            path += (key,)
            self.lines.setdefault(path, line)
            if path in self._array_sizes:
                path += (self._array_sizes[path] - 1,)
        return path

    def _key_value(self, table: KeyPath) -> None:
        """Scan ``key = value`` (the key possibly dotted) defined under `table`."""
        line = self.line
        keys = self._key()
        self._expect("=")
        self._skip()
        path = table
        for key in keys[:-1]:
            path += (key,)
            self.lines.setdefault(path, line)  # the first definition wins for intermediates
        path += (keys[-1],)
        self.lines[path] = line
        self._value(path)

    def _key(self) -> list[str]:
        """Scan a possibly dotted key (and the blanks after it) into its parts."""
        keys = [self._simple_key()]
        self._skip()
        while self._peek() == ".":
            self._advance()
            self._skip()
            keys.append(self._simple_key())
            self._skip()
        return keys

    def _simple_key(self) -> str:
        if self._peek() in ('"', "'"):
            return self._string()
        start = self.pos
        while self._peek() in _BARE_KEY_CHARS:
            self._advance()
        if self.pos == start:
            raise _ScanError(f"expected a key on line {self.line}")
        return self.text[start : self.pos]

    def _value(self, path: KeyPath) -> None:
        """Scan the value at `path`, recording the keys and elements nested in it."""
        char = self._peek()
        if char in ('"', "'"):
            self._string()
        elif char == "[":
            self._array(path)
        elif char == "{":
            self._inline_table(path)
        else:  # number, boolean or date-time (which may contain a space)
            start = self.pos
            while self._peek() and self._peek() not in _SCALAR_END:
                self._advance()
            if self.pos == start:
                raise _ScanError(f"expected a value on line {self.line}")

    def _array(self, path: KeyPath) -> None:
        self._advance()
        index = 0
        while True:
            self._skip(newlines=True)
            if self._peek() == "]":
                break
            self.lines[path + (index,)] = self.line
            self._value(path + (index,))
            index += 1
            self._skip(newlines=True)
            if self._peek() == ",":
                self._advance()
            elif self._peek() != "]":
                raise _ScanError(f"expected ',' or ']' on line {self.line}")
        self._advance()

    def _inline_table(self, path: KeyPath) -> None:
        self._advance()
        while True:
            self._skip(newlines=True)
            if self._peek() == "}":
                break
            self._key_value(path)
            self._skip(newlines=True)
            if self._peek() == ",":
                self._advance()
            elif self._peek() != "}":
                raise _ScanError(f"expected ',' or '}}' on line {self.line}")
        self._advance()

    def _string(self) -> str:
        """Scan a basic, literal or multi-line string; return its content (escapes decoded)."""
        quote = self._peek()
        multiline = self._at(quote * 3)
        delimiter = quote * 3 if multiline else quote
        self._advance(len(delimiter))
        chars: list[str] = []
        while not self._at(delimiter):
            char = self._peek()
            if not char or (not multiline and char in _NEWLINE):
                raise _ScanError(f"unterminated string on line {self.line}")
            if char == "\\" and quote == '"':
                chars.append(self._escape())
            else:
                chars.append(char)
                self._advance()
        self._advance(len(delimiter))
        for _ in range(2 if multiline else 0):  # up to two quotes may end the content
            if self._peek() == quote:
                chars.append(quote)
                self._advance()
        return "".join(chars)

    def _escape(self) -> str:
        """Consume a backslash escape; a line-ending backslash just skips its line break."""
        code = self._peek(1)
        self._advance(2)
        if code not in ("u", "U"):
            return _ESCAPES.get(code, "")
        digits = self.text[self.pos : self.pos + (4 if code == "u" else 8)]
        self._advance(len(digits))
        try:
            return chr(int(digits, 16))
        except (ValueError, OverflowError):
            raise _ScanError(f"bad unicode escape on line {self.line}") from None


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path defined in a TOML document to the 1-based line where it is defined.

    Never raises: on text it cannot make sense of, returns what it found up to there.
    """
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (_ScanError, RecursionError):
        pass
    return scanner.lines


def line_for(lines: dict[KeyPath, int], path: KeyPath) -> int | None:
    """Line of `path`, or of its nearest defined ancestor (drop trailing parts until one is found); None if none is."""
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None
