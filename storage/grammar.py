"""The grammar of the log contract's names, owned here and imported by every entry point.

Ingest (pipeline/), the key layout (storage/keys.py), warehouse partition paths
(storage/warehouse/parquet.py), search and the incident records all ask these functions, so a name one of
them accepts is accepted by all:

    id        kind:id, kind [a-z][a-z0-9_-]{0,31}, id 1-128 printable non-space chars, ≤ 255 UTF-8 bytes
    dataset   [A-Za-z0-9][A-Za-z0-9._-]{0,95}  (Hive partitions and key prefixes: path-safe, no dot first)
    city/zone [A-Za-z0-9_-]{1,32}
    switchback cell   city|zone|slot_start_ms

Plausible times are 2000-01-01T00:00:00Z ≤ ts ≤ now + 1 day, in epoch milliseconds.
"""

from __future__ import annotations

import re

#: Keys length-prefix every id in one byte.
MAX_ID_BYTES = 255
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
ID_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}:\S{1,128}")
DATASET_MAX_LENGTH = 96
DATASET_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
SHORT_NAME_MAX_LENGTH = 32
SHORT_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")
SWITCHBACK_CELL_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}\|[A-Za-z0-9_-]{1,32}\|\d{1,15}")

#: The grammars as a person reads them, for error messages (each states exactly what its pattern checks).
ID_GRAMMAR = "kind:id (kind [a-z][a-z0-9_-]{0,31}, id 1-128 printable non-space characters)"
DATASET_GRAMMAR = "[A-Za-z0-9][A-Za-z0-9._-]{0,95} (1-96 characters, not starting with a dot)"
SHORT_NAME_GRAMMAR = "[A-Za-z0-9_-]{1,32}"

#: 2000-01-01T00:00:00Z: the earliest plausible time.
PLAUSIBLE_START_MS = 946_684_800_000
#: How far in the future a time may be and still be plausible (clock skew, time zones done wrong).
PLAUSIBLE_AHEAD_MS = 86_400_000


def dataset_is_valid(name: str) -> bool:
    """True when `name` may name a dataset (path-safe, 1-96 characters, no leading dot)."""
    return type(name) is str and DATASET_PATTERN.fullmatch(name) is not None


def id_is_valid(value: str) -> bool:
    """True when `value` follows the `kind:id` grammar (printable, no whitespace in the id part)."""
    if type(value) is not str or ID_PATTERN.fullmatch(value) is None or not value.isprintable():
        return False
    # Keys length-prefix ids in one byte, so a non-ASCII id must still fit in 255 UTF-8 bytes.
    return value.isascii() or len(value.encode()) <= MAX_ID_BYTES


def kind_is_valid(kind: str) -> bool:
    """True when `kind` may be the kind part of an id (`courier`, `bike`, `order`, …)."""
    return type(kind) is str and KIND_PATTERN.fullmatch(kind) is not None


def short_name_is_valid(name: str) -> bool:
    """True when `name` may be a city or zone."""
    return type(name) is str and SHORT_NAME_PATTERN.fullmatch(name) is not None


def switchback_cell_is_valid(unit: str) -> bool:
    """True when `unit` names a switchback cell `city|zone|slot_start_ms`."""
    return type(unit) is str and SWITCHBACK_CELL_PATTERN.fullmatch(unit) is not None


def dataset_problem(name: object) -> str | None:
    """None when `name` is a valid dataset, else a sentence saying why not (for errors shown to people)."""
    if type(name) is str and dataset_is_valid(name):
        return None
    return f"dataset name {name!r} must be {DATASET_GRAMMAR}"
