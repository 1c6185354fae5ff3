"""`make postgres`: run Django's app tests again on the PostgreSQL server named by DATABASE_URL.

A missing server is a loud skip on a laptop and an error under CI=true. Exits with pytest's exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg

DEFAULT_DATABASE_URL = "postgres://dispatchscope:dispatchscope@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent
CONNECT_TIMEOUT_S = 3


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _connect_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": int(config.get("PORT") or 5432),
        "dbname": config.get("NAME") or "postgres",
        "connect_timeout": CONNECT_TIMEOUT_S,
    }
    if config.get("USER"):
        kwargs["user"] = config["USER"]
    if config.get("PASSWORD"):
        kwargs["password"] = config["PASSWORD"]
    return kwargs


def _banner(lines: list[str]) -> str:
    width = max(len(line) for line in lines) + 4
    rule = "*" * width
    return "\n".join([rule, *(f"* {line.ljust(width - 4)} *" for line in lines), rule])


def postgres_unreachable(url: str) -> str | None:
    """None when the server behind `url` accepts a connection, else why it does not."""
    config = dj_database_url.parse(url)
    if "postgresql" not in str(config.get("ENGINE", "")):
        return f"DATABASE_URL={url} does not name a PostgreSQL database"
    kwargs = _connect_kwargs(config)
    try:
        with psycopg.connect(**kwargs) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL not reachable at {kwargs['host']}:{kwargs['port']} ({first_line})"
    return None


def main() -> int:
    """Run tests/dashboard on PostgreSQL; skip (0) or fail (1, under CI) when the server is absent."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    problem = postgres_unreachable(url)
    if problem is not None:
        if _running_in_ci():
            print(
                _banner([f"FAILED: {problem}", "CI=true: the PostgreSQL suite must run here."]),
                file=sys.stderr,
            )
            return 1
        print(_banner([f"SKIPPED: {problem}", "The PostgreSQL suite did not run; it runs in CI."]))
        return 0
    print(f"Running Django's app tests on PostgreSQL ({url}); pytest-django makes a throwaway test database.")
    env = {**os.environ, "DATABASE_URL": url}
    command = [sys.executable, "-m", "pytest", "-m", "not e2e", "tests/dashboard"]
    return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
