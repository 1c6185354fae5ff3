"""Health of every configured backend: each one probed with the cheapest real request it answers, timed.

A probe is one read that goes all the way to the engine — the track store's layout record (one `get` on the
`meta` table), `SELECT 1` on the warehouse and on Django's database, a PING to Redis when it carries the
channel layer. Probes run side by side, each bounded by `timeout_s`, so one hung engine neither hides the
others nor holds the caller: a probe still running at the deadline is reported as `timeout`. Nothing here
caches a broken connection: the backends' own reconnect-on-next-call logic is what a later probe exercises.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.db import connections as database_connections

from storage.connections import track_stores, warehouses

State = Literal["ok", "error", "timeout"]
#: Seconds a probe may take before it is reported as `timeout`.
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class BackendHealth:
    """One backend's answer: what it is, whether it answered, how long it took, and why not."""

    kind: str
    alias: str
    engine: str
    state: State
    latency_ms: float | None
    message: str = ""

    def as_dict(self, *, with_message: bool) -> dict[str, Any]:
        """The JSON shape of the health endpoint (the message only for signed-in users)."""
        row: dict[str, Any] = {
            "kind": self.kind,
            "alias": self.alias,
            "engine": self.engine,
            "state": self.state,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
        }
        if with_message and self.message:
            row["message"] = self.message
        return row


@dataclass(frozen=True)
class _Probe:
    kind: str
    alias: str
    engine: str
    call: Callable[[], object]


def _backend_engine(config: dict[str, Any]) -> str:
    backend = str(config.get("BACKEND", ""))
    name = backend.rsplit(".", 1)[-1].lower()
    for engine in ("lmdb", "hbase", "duckdb", "trino", "presto", "postgresql", "sqlite", "redis", "inmemory"):
        if engine in name or engine in backend.lower():
            return engine
    return name or "unknown"


def _track_store_probe(alias: str) -> Callable[[], object]:
    def probe() -> object:
        return track_stores[alias].kv.get("meta", b"layout")

    return probe


def _warehouse_probe(alias: str) -> Callable[[], object]:
    def probe() -> object:
        return warehouses[alias].execute("SELECT 1 AS ok")

    return probe


def _database_probe(alias: str) -> Callable[[], object]:
    def probe() -> object:
        connection = database_connections[alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                return cursor.fetchone()
        finally:
            # Probes run on worker threads: give their connection back rather than leak one per thread.
            connection.close()

    return probe


def _redis_probe(url: str) -> Callable[[], object]:
    def probe() -> object:
        import redis

        timeout = PROBE_TIMEOUT_S
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return client.ping()
        finally:
            client.close()

    return probe


def _probes() -> list[_Probe]:
    probes = [
        _Probe("track_store", alias, _backend_engine(config), _track_store_probe(alias))
        for alias, config in settings.TRACK_STORES.items()
    ]
    probes += [
        _Probe("warehouse", alias, _backend_engine(config), _warehouse_probe(alias))
        for alias, config in settings.WAREHOUSES.items()
    ]
    probes += [
        _Probe("database", alias, str(database_connections[alias].vendor), _database_probe(alias))
        for alias in settings.DATABASES
    ]
    for alias, config in settings.CHANNEL_LAYERS.items():
        hosts = config.get("CONFIG", {}).get("hosts") or []
        if "redis" in str(config.get("BACKEND", "")).lower() and hosts and isinstance(hosts[0], str):
            probes.append(_Probe("channel_layer", alias, "redis", _redis_probe(hosts[0])))
    return probes


def _run(probe: _Probe) -> BackendHealth:
    started = time.perf_counter()
    try:
        probe.call()
    except Exception as exc:  # any failure of a probe is that backend's state, reported
        elapsed = (time.perf_counter() - started) * 1000
        message = str(exc) or type(exc).__name__
        return BackendHealth(probe.kind, probe.alias, probe.engine, "error", elapsed, message)
    return BackendHealth(probe.kind, probe.alias, probe.engine, "ok", (time.perf_counter() - started) * 1000)


def health_check(*, timeout_s: float = PROBE_TIMEOUT_S) -> list[BackendHealth]:
    """Every configured backend probed side by side; a probe past `timeout_s` is reported as `timeout`."""
    probes = _probes()
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(probes)), thread_name_prefix="health")
    try:
        futures = [pool.submit(_run, probe) for probe in probes]
        concurrent.futures.wait(futures, timeout=timeout_s)
        results: list[BackendHealth] = []
        for probe, future in zip(probes, futures, strict=True):
            if future.done():
                results.append(future.result())
            else:
                message = f"no answer within {timeout_s:g} s"
                results.append(BackendHealth(probe.kind, probe.alias, probe.engine, "timeout", None, message))
        return results
    finally:
        # A hung probe keeps its thread until the engine's own timeout; the caller does not wait for it.
        pool.shutdown(wait=False, cancel_futures=True)
