"""Mission-file problems, each located by file, line and key path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

KeyPath = tuple[str | int, ...]


def format_key_path(path: KeyPath) -> str:
    """``("shell", 1, "altitude_km")`` -> ``shell[1].altitude_km``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class MissionIssue:
    """One problem in a mission file."""

    file: Path | None
    line: int | None
    key_path: KeyPath
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.file is not None else "<mission>"
        if self.line is not None:
            where += f":{self.line}"
        key = format_key_path(self.key_path)
        return f"{where}: {key}: {self.message}" if key else f"{where}: {self.message}"


class MissionError(Exception):
    """A mission file could not be loaded; ``issues`` lists every problem found."""

    def __init__(self, issues: list[MissionIssue]):
        self.issues = sorted(issues, key=lambda i: (str(i.file), i.line or 0))
        super().__init__("\n".join(str(issue) for issue in self.issues))
