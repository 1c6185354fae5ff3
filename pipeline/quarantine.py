"""Quarantine files: every rejected row of one input, one JSON object per line.

Layout: `<quarantine_dir>/<dataset>/<input file name>.quarantine.jsonl`, each line
`{"line": N, "reason": code, "detail": text, "row": raw row}`. A run rewrites the file (written to a
temporary name, renamed when the input is done) so re-runs never append copies; an input without rejects
leaves no file, and removes the one an earlier run left.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from pipeline.contract import Reject

SUFFIX = ".quarantine.jsonl"


def quarantine_path(*, quarantine_dir: Path, dataset: str, source: Path) -> Path:
    """Where the rejects of `source` loaded under `dataset` go."""
    return quarantine_dir / dataset / (source.name + SUFFIX)


def _fallback(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


class QuarantineFile:
    """The rejects of one input during one run; `close()` publishes them (or removes a stale file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._handle: IO[bytes] | None = None

    def add(self, rejects: Iterable[Reject]) -> None:
        """Append rejects, ordered by line as given."""
        for reject in rejects:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = open(self._temporary, "wb")  # noqa: SIM115 - closed in close()
            record = {
                "line": reject.line,
                "reason": reject.reason,
                "detail": reject.detail,
                "row": reject.row,
            }
            self._handle.write(
                orjson.dumps(
                    record,
                    default=_fallback,
                    option=orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
                )
            )
            self.count += 1

    def close(self) -> Path | None:
        """Publish this run's rejects atomically; None (and no file) when there were none."""
        if self._handle is None:
            self.path.unlink(missing_ok=True)
            return None
        self._handle.close()
        self._handle = None
        os.replace(self._temporary, self.path)
        return self.path
