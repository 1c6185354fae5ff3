"""The real engines `tools/engines.py up` started (HBase, Trino, PrestoDB), as session fixtures.

Each fixture reads the engine's `var/engines/<engine>/state.json` and checks that it answers. When it does
not, the test is skipped with a loud reason on a laptop (no Java or Maven, or `make engines-up` not run) and
FAILS under CI=true, where `.ci/run` provides Java and Maven and `make test` starts the engines. The same
rule as tests/services.py, which this module follows.

Fault tests stop and start an engine through the same script (`engine_stop`, `engine_start`), so they only
ever signal the processes it started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.services import running_in_ci, service_available

ROOT = Path(__file__).resolve().parent.parent
ENGINES_SCRIPT = ROOT / "tools" / "engines.py"


def engines_dir() -> Path:
    """Where tools/engines.py keeps each engine's configuration and state."""
    return Path(os.environ.get("DISPATCHSCOPE_VAR_DIR") or ROOT / "var") / "engines"


@dataclass(frozen=True)
class RunningEngine:
    """An engine that answered: where it listens and what it is."""

    engine: str
    version: str
    host: str
    port: int
    url: str
    extra: dict[str, Any]


def running_engine_state(engine: str) -> dict[str, Any] | None:
    """What tools/engines.py recorded about `engine`, or None when it never started it."""
    try:
        data: dict[str, Any] = json.loads((engines_dir() / engine / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return data


def _why_absent(engine: str) -> str:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing and not Path("/usr/lib/jvm").is_dir():
        return f"{' and '.join(missing)} not installed, so tools/engines.py cannot fetch or run {engine}"
    return f"{engine} is not running (start it with `make engines-up`; see docs/cluster.md)"


def require_engine(engine: str) -> RunningEngine:
    """The running `engine`; otherwise skip loudly, or fail under CI=true."""
    state = running_engine_state(engine)
    if state is not None and service_available(state["host"], int(state["port"])):
        return RunningEngine(
            engine=engine,
            version=str(state["version"]),
            host=str(state["host"]),
            port=int(state["port"]),
            url=str(state["url"]),
            extra=dict(state.get("extra") or {}),
        )
    why = _why_absent(engine) if state is None else f"{engine} recorded in {engines_dir()} does not answer"
    if running_in_ci():
        pytest.fail(f"FAILED: {why} — CI=true, so a missing engine is an error, not a skip", pytrace=False)
    pytest.skip(f"SKIPPED: {why} — the real-engine suites run in CI")


def _script(*arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ENGINES_SCRIPT), *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tools/engines.py {' '.join(arguments)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def engine_stop(engine: str, *, only: str | None = None) -> None:
    """Stop `engine` (or just its process `only`, e.g. hbase-thrift) through tools/engines.py."""
    _script("down", engine, *(("--only", only) if only else ()))


def engine_start(engine: str) -> RunningEngine:
    """Start `engine` again through tools/engines.py and wait until it answers."""
    _script("up", "--strict", engine)
    return require_engine(engine)


@pytest.fixture(scope="session")
def hbase_engine() -> RunningEngine:
    """Real standalone HBase behind its Thrift 1 gateway (framed transport, compact protocol)."""
    return require_engine("hbase")


@pytest.fixture(scope="session")
def trino_engine() -> RunningEngine:
    """A real Trino coordinator with the Hive catalog `hive` over a file metastore."""
    return require_engine("trino")


@pytest.fixture(scope="session")
def presto_engine() -> RunningEngine:
    """A real PrestoDB coordinator with the Hive catalog `hive` over a file metastore."""
    return require_engine("presto")
