"""The local servers the test suite needs (Redis, PostgreSQL): `up`, `down` or `status`.

`up` reuses a server that already answers at REDIS_URL / DATABASE_URL; otherwise, when the server is
installed (Debian's `redis-server`, `postgresql`), it starts a private one under `var/services/` on the
address the URL names, with no persistence for Redis and a trust-on-loopback PostgreSQL cluster that holds
the test role. Nothing is installed here: `.ci/run` installs the packages. A server that cannot be started
is reported, and the suites that need it skip loudly on a laptop and fail under CI=true.

    python tools/services.py up | down | status
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SERVICES_DIR = Path(os.environ.get("DISPATCHSCOPE_VAR_DIR", str(ROOT / "var"))) / "services"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_DATABASE_URL = "postgres://dispatchscope:dispatchscope@127.0.0.1:5432/postgres"
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Address:
    """Where a service URL points, and the credentials it carries."""

    host: str
    port: int
    user: str
    password: str
    database: str


def address_parse(url: str, *, default_port: int) -> Address:
    """The host, port, user, password and database named by a redis:// or postgres:// URL."""
    parts = urlsplit(url)
    return Address(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or default_port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.strip("/") or "postgres",
    )


def port_open(host: str, port: int, *, timeout_s: float = 1.0) -> bool:
    """True when a TCP connection to host:port opens within `timeout_s`."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _wait_for_port(host: str, port: int, *, name: str) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if port_open(host, port, timeout_s=0.5):
            return True
        time.sleep(0.2)
    print(f"{name}: did not answer on {host}:{port} within {START_TIMEOUT_S:.0f} s", file=sys.stderr)
    return False


def _loopback(address: Address) -> bool:
    return address.host in {"127.0.0.1", "localhost", "::1"}


# --- Redis -------------------------------------------------------------------------------------------


def redis_up(url: str) -> bool:
    """Reuse the Redis at `url`, or start a private one there; True when one answers."""
    address = address_parse(url, default_port=6379)
    if port_open(address.host, address.port):
        print(f"Redis: using the server at {address.host}:{address.port}")
        return True
    binary = shutil.which("redis-server")
    if binary is None or not _loopback(address):
        why = "redis-server is not installed" if binary is None else f"{address.host} is not this machine"
        print(f"Redis: nothing answers at {address.host}:{address.port} and {why}; its suite will skip")
        return False
    directory = SERVICES_DIR / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            binary,
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(address.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--pidfile",
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
        ],
        check=True,
    )
    if not _wait_for_port(address.host, address.port, name="Redis"):
        return False
    print(f"Redis: started a private server on 127.0.0.1:{address.port} (no persistence; {directory})")
    return True


def redis_down() -> None:
    """Stop the private Redis `up` started, if it runs."""
    _stop_by_pidfile(SERVICES_DIR / "redis" / "redis.pid", name="Redis")


# --- PostgreSQL --------------------------------------------------------------------------------------


def _postgres_bindir() -> Path | None:
    """The bin directory of the newest PostgreSQL Debian installed, or of one on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; Debian's package creates the `postgres` user for them.
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _postgres_login_works(address: Address) -> str | None:
    """None when the test role can log in at `address`, else why not."""
    try:
        import psycopg
    except ImportError:
        return None  # the suite's own check reports it; nothing to verify from here
    try:
        with psycopg.connect(
            host=address.host,
            port=address.port,
            user=address.user or None,
            password=address.password or None,
            dbname=address.database,
            connect_timeout=3,
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def postgres_up(url: str) -> bool:
    """Reuse the PostgreSQL at `url`, or start a private cluster there holding its role; True when usable."""
    address = address_parse(url, default_port=5432)
    if port_open(address.host, address.port):
        problem = _postgres_login_works(address)
        if problem is None:
            print(f"PostgreSQL: using the server at {address.host}:{address.port}")
            return True
        where = f"{address.host}:{address.port}"
        print(f"PostgreSQL: a server answers at {where} but refuses the test role: {problem}")
        return False
    bindir = _postgres_bindir()
    if bindir is None or not _loopback(address):
        why = "PostgreSQL is not installed" if bindir is None else f"{address.host} is not this machine"
        print(f"PostgreSQL: nothing answers at {address.host}:{address.port} and {why}; its suite will skip")
        return False
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            print("PostgreSQL: running as root and there is no `postgres` user to run the server as")
            return False
    directory = SERVICES_DIR / "postgres"
    data = directory / "data"
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(directory, server_user.pw_uid, server_user.pw_gid)
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            _as_server_user(
                [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    options = f"-h 127.0.0.1 -p {address.port} -k {directory} -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_server_user(
            [
                *(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(directory / "server.log")),
                *("-o", options, "-w", "start"),
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if not _wait_for_port(address.host, address.port, name="PostgreSQL"):
        return False
    if address.user and address.user != "postgres":
        _postgres_role_ensure(bindir, address)
    print(f"PostgreSQL: started a private cluster on 127.0.0.1:{address.port} ({data})")
    return True


def _postgres_role_ensure(bindir: Path, address: Address) -> None:
    # psql's :'var' / :"var" interpolation quotes the role and password, so neither needs escaping here.
    script = (
        "SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'password')\n"
        "WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec\n"
    )
    subprocess.run(
        [
            *(str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(address.port), "-U", "postgres"),
            *("-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q"),
            *("-v", f"role={address.user}", "-v", f"password={address.password}"),
        ],
        input=script,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def postgres_down() -> None:
    """Stop the private PostgreSQL cluster `up` started, if it runs."""
    data = SERVICES_DIR / "postgres" / "data"
    bindir = _postgres_bindir()
    if bindir is None or not (data / "postmaster.pid").exists():
        return
    subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
        check=False,
        stdout=subprocess.DEVNULL,
    )
    print("PostgreSQL: stopped the private cluster")


def _stop_by_pidfile(pidfile: Path, *, name: str) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    print(f"{name}: stopped the private server (pid {pid})")


def main() -> int:
    """Run `up`, `down` or `status`; `up` always exits 0, leaving the verdict to the suites."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    action = parser.parse_args().action
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if action == "up":
        redis_up(redis_url)
        postgres_up(database_url)
    elif action == "down":
        redis_down()
        postgres_down()
    else:
        for name, url, port in (("Redis", redis_url, 6379), ("PostgreSQL", database_url, 5432)):
            address = address_parse(url, default_port=port)
            state = "up" if port_open(address.host, address.port) else "down"
            print(f"{name}: {state} at {address.host}:{address.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
