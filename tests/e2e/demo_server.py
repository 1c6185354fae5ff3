"""A real Dispatchscope for the browser tests: its own var directory, a small simulated day loaded through
`manage.py simulate --load`, a login in the `ops` group, and `manage.py runserver` (Daphne: HTTP and
WebSockets) on a free loopback port — the same path `make demo` takes, at a smaller size."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "ops-e2e"
PASSWORD = "a long e2e password"
#: The simulated day: one Hungarian run, small enough to simulate and load in a few seconds.
SIMULATION = [
    "--scenario",
    "food-delivery",
    "--strategies",
    "hungarian",
    "--hours",
    "0.5",
    "--couriers",
    "40",
]
DATASET = "sim-food-delivery-hungarian-1"


@dataclass(frozen=True)
class DemoServer:
    """A running server: its base URL, the environment its processes share, and its var directory."""

    url: str
    env: dict[str, str]
    var_dir: Path

    def manage(self, *args: str) -> str:
        """Run a management command against this server's stores and database; its stdout."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it answered")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on 127.0.0.1:{port} within {timeout_s:.0f} s")


@contextmanager
def demo_server(var_dir: Path) -> Iterator[DemoServer]:
    """Set up the stores, data and login under `var_dir`, serve them, and stop the server afterwards."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"TRACK_STORE", "WAREHOUSE", "WAREHOUSE_ROOT", "DATABASE_URL", "REDIS_URL", "QUARANTINE_DIR"}
    }
    env.update(
        {
            "DISPATCHSCOPE_VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "LMDB_MAP_SIZE_GB": "2",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
    )
    port = _free_port()
    server = DemoServer(url=f"http://127.0.0.1:{port}", env=env, var_dir=var_dir)
    server.manage("migrate", "--noinput")
    server.manage("simulate", *SIMULATION, "--out", str(var_dir / "sim"), "--load", "--no-progress")
    server.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import Group, User; "
        f"u = User.objects.create_user({USERNAME!r}, password={PASSWORD!r}); "
        "u.groups.add(Group.objects.get(name='ops'))",
    )
    log = (var_dir / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
