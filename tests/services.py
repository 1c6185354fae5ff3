"""External services the suite needs (Redis, PostgreSQL): skip loudly on a laptop, fail under CI=true."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest


def running_in_ci() -> bool:
    """True when the CI environment variable says this is a CI run (`true`, `1`, `yes`)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def service_available(host: str, port: int, *, timeout_s: float = 1.0) -> bool:
    """True when a TCP connection to host:port opens within `timeout_s`."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def service_address(url: str, *, default_port: int) -> tuple[str, int]:
    """The (host, port) a service URL such as redis://127.0.0.1:6379/15 points at."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def require_service(name: str, host: str, port: int) -> None:
    """Return if the service answers; else fail the test under CI=true, or skip it with a loud reason."""
    if service_available(host, port):
        return
    where = f"{name} not reachable at {host}:{port}"
    if running_in_ci():
        pytest.fail(f"FAILED: {where} — CI=true, so a missing service is an error, not a skip", pytrace=False)
    pytest.skip(f"SKIPPED: {where} — this suite runs in CI (start {name} locally to run it here)")
