"""The real cluster engines on loopback, from Maven Central only: `up`, `down` or `status`.

    python tools/engines.py up [trino|presto|hbase ...]
    python tools/engines.py down [trino|presto|hbase ...]
    python tools/engines.py status

What `up` does, per engine: fetch the pinned release through Maven (`mvn dependency:get` into a Maven
repository under the cache, or `dependency:build-classpath` of a pom generated under `var/engines/`),
unpack it into the cache (`~/.cache/dispatchscope/engines`, or DISPATCHSCOPE_ENGINES_CACHE), write its
configuration under `var/engines/<engine>/`, start it on 127.0.0.1 with a small fixed heap, wait until it
answers, and print its version, resident memory and start time. Each engine records what the tests need
in `var/engines/<engine>/state.json` (tests/engines.py reads it). A running engine of the same release is
reused. `down` stops what `up` started, found by the pid it recorded and checked against the process's
command line, so nothing else is ever signalled.

- Trino (Hive connector, file metastore, native local file system) over WAREHOUSE_ROOT, schema `dispatch`.
- PrestoDB (Hive connector, file metastore, Hadoop's local file system) over the same files: the real
  engine for presto-python-client.
- HBase standalone (master, region server and ZooKeeper in one JVM, local file system) and its Thrift 1
  gateway, framed transport and compact protocol.

A machine without Java or Maven gets a message and exit status 0: the suites that need the engines skip
loudly there (and fail under CI=true). See docs/cluster.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DISPATCHSCOPE_VAR_DIR") or ROOT / "var")
ENGINES_DIR = VAR_DIR / "engines"
CACHE_DIR = Path(
    os.environ.get("DISPATCHSCOPE_ENGINES_CACHE") or Path.home() / ".cache" / "dispatchscope" / "engines"
)
MAVEN_REPO = CACHE_DIR / "m2"
HOST = "127.0.0.1"
ENGINE_NAMES = ("trino", "presto", "hbase")
FETCH_ORDER = ("hbase", "trino", "presto")

# -- pinned releases ----------------------------------------------------------------------------------
#: The newest Trino whose server package Maven Central serves (477 and later publish none there).
TRINO_VERSION = "476"
#: Trino 476 needs Java 24 or newer; without one, the last served release that runs on Java 17.
TRINO_JAVA17_VERSION = "368"
#: The newest PrestoDB server Maven Central serves.
PRESTO_VERSION = "0.287"
#: PrestoDB 0.287 bundles ASM 9.0, which cannot read Java 17 class files; 9.7.1 can (same API).
ASM_VERSION = "9.7.1"
#: The newest HBase whose hbase-thrift Maven Central serves (built against Hadoop 2.10).
HBASE_VERSION = "2.6.1"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# -- ports and heaps (all on 127.0.0.1) ---------------------------------------------------------------
TRINO_PORT = int(os.environ.get("DISPATCHSCOPE_TRINO_PORT") or 18080)
PRESTO_PORT = int(os.environ.get("DISPATCHSCOPE_PRESTO_PORT") or 18081)
HBASE_THRIFT_PORT = int(os.environ.get("DISPATCHSCOPE_HBASE_THRIFT_PORT") or 19090)
HBASE_ZOOKEEPER_PORT = 12181
HBASE_MASTER_PORT = 16100
HBASE_REGIONSERVER_PORT = 16120
HEAP = {"trino": "1G", "presto": "1G", "hbase": "1G", "hbase-thrift": "256M"}
#: The Thrift gateway's wire format; the TRACK_STORE URL in state.json names the same.
HBASE_TRANSPORT = "framed"
HBASE_PROTOCOL = "compact"
SCHEMA = "dispatch"
START_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 60.0

_JAVA_OPENS = [
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.dns=ALL-UNNAMED",
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
]


class EngineUnavailable(RuntimeError):
    """This machine cannot run an engine (no Java, no Maven, a port taken): a message, not a crash."""


# =====================================================================================================
# Java and Maven


@dataclass(frozen=True)
class Java:
    home: Path
    major: int

    @property
    def binary(self) -> str:
        return str(self.home / "bin" / "java")


def _java_major(home: Path) -> int | None:
    release = home / "release"
    if not (home / "bin" / "java").exists():
        return None
    if release.exists():
        match = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
        if match:
            return int(match.group(1))
    try:
        banner = subprocess.run(
            [str(home / "bin" / "java"), "-version"], capture_output=True, text=True, timeout=30
        ).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)', banner)
    return int(match.group(1)) if match else None


def java_find(minimum: int) -> Java | None:
    """The JDK with the lowest major version >= `minimum`: JAVA_HOME, /usr/lib/jvm/*, or `java` on PATH."""
    homes: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        homes.append(Path(os.environ["JAVA_HOME"]))
    homes += sorted(Path("/usr/lib/jvm").glob("*")) if Path("/usr/lib/jvm").is_dir() else []
    if on_path := shutil.which("java"):
        homes.append(Path(on_path).resolve().parent.parent)
    found = [Java(home, major) for home in homes if (major := _java_major(home) or 0) >= minimum]
    return min(found, key=lambda java: java.major) if found else None


def _maven() -> str:
    binary = shutil.which("mvn")
    if binary is None:
        raise EngineUnavailable("Maven (mvn) is not installed; .ci/run installs Debian's `maven`")
    return binary


@dataclass
class Downloads:
    """Bytes and seconds Maven spent filling the cache, per engine (kept in the cache as downloads.json)."""

    path: Path = field(default_factory=lambda: CACHE_DIR / "downloads.json")

    def record(self, engine: str, *, seconds: float, size: int) -> None:
        data = self.read()
        data[engine] = {"seconds": round(seconds, 1), "bytes": size}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data


def _tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def maven_get(coordinates: str) -> Path:
    """The artifact `group:artifact:version[:type[:classifier]]`, fetched into MAVEN_REPO if absent."""
    group, artifact, version, *rest = coordinates.split(":")
    kind = rest[0] if rest else "jar"
    classifier = f"-{rest[1]}" if len(rest) > 1 else ""
    path = MAVEN_REPO.joinpath(
        *group.split("."), artifact, version, f"{artifact}-{version}{classifier}.{kind}"
    )
    if path.exists():
        return path
    command = [
        *(_maven(), "-B", "-q", "-C", f"-Dmaven.repo.local={MAVEN_REPO}"),
        *(f"{DEPENDENCY_PLUGIN}:get", f"-Dartifact={coordinates}", "-Dtransitive=false"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=CACHE_DIR)
    if result.returncode != 0 or not path.exists():
        errors = [line for line in result.stdout.splitlines() if "ERROR" in line][:2]
        raise EngineUnavailable(f"Maven could not fetch {coordinates}: {' '.join(errors) or 'no file'}")
    return path


#: One download at a time: parallel Maven downloads were several times slower here than serial ones, and
#: the engines that are already fetched start (CPU-bound) while the next one downloads (network-bound).
_FETCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _fetch_measured(engine: str) -> Iterator[None]:
    """Fetch and unpack one engine under the fetch lock; record its time and the bytes Maven added."""
    with _FETCH_LOCK:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        before = _tree_bytes(MAVEN_REPO)
        started = time.monotonic()
        yield
        added = _tree_bytes(MAVEN_REPO) - before
        if added > 0:
            seconds = time.monotonic() - started
            Downloads().record(engine, seconds=seconds, size=added)
            print(f"{engine}: fetched {added / 1e6:.0f} MB through Maven and unpacked it in {seconds:.0f} s")


def _unpacked(target: Path, unpack: Callable[[Path], None]) -> Path:
    """`target`, unpacked by `unpack(staging)` into a staging directory then renamed: all or nothing."""
    if (target / ".complete").exists():
        return target
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    unpack(staging)
    (staging / ".complete").write_text("")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _tar_extract(archive: Path, staging: Path, members: Sequence[str] = ()) -> None:
    """Extract `archive` (all, or only the given top-level-relative paths) without its top directory."""
    # GNU tar is several times faster than tarfile on the 2 GB Presto archive; tarfile is the fallback.
    if shutil.which("tar"):
        top = subprocess.run(
            ["tar", "tzf", str(archive)], capture_output=True, text=True, check=True
        ).stdout.split("/", 1)[0]
        wanted = [f"{top}/{member}" for member in members]
        subprocess.run(
            ["tar", "xzf", str(archive), "-C", str(staging), "--strip-components=1", *wanted], check=True
        )
        return
    with tarfile.open(archive) as bundle:
        for member in bundle.getmembers():
            _, _, inner = member.name.partition("/")
            if inner and (not members or any(inner.startswith(m) for m in members)):
                member.name = inner
                bundle.extract(member, staging, filter="data")


# =====================================================================================================
# Processes


@dataclass(frozen=True)
class EngineState:
    """What `up` recorded about a running engine (var/engines/<engine>/state.json)."""

    engine: str
    version: str
    host: str
    port: int
    pids: dict[str, int]
    started_at: float
    start_seconds: float
    java: str
    url: str
    extra: dict[str, Any] = field(default_factory=dict)


def _state_path(engine: str) -> Path:
    return ENGINES_DIR / engine / "state.json"


def state_read(engine: str) -> EngineState | None:
    """The recorded state of `engine`, or None when it was never started or its record is unreadable."""
    try:
        data = json.loads(_state_path(engine).read_text())
        return EngineState(**data)
    except (OSError, ValueError, TypeError):
        return None


def _marker(process: str) -> str:
    # Every JVM started here carries this property, so `down` signals only its own processes.
    return f"-Ddispatchscope.engine={process}@{ENGINES_DIR}"


def _process_alive(pid: int, process: str) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return _marker(process).encode() in command


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def port_open(port: int, *, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _spawn(
    process: str, java: Java, arguments: list[str], *, directory: Path, heap: str
) -> subprocess.Popen[bytes]:
    """Start one JVM in its own session with its log `<directory>/<process>.log`."""
    directory.mkdir(parents=True, exist_ok=True)
    log = (directory / f"{process}.log").open("ab")
    command = [java.binary, f"-Xmx{heap}", f"-Xms{heap}", _marker(process), *arguments]
    child = subprocess.Popen(
        command,
        cwd=directory,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "JAVA_HOME": str(java.home)},
    )
    log.close()
    (directory / f"{process}.pid").write_text(f"{child.pid}\n")
    return child


def _stop(pid: int, process: str) -> float | None:
    """SIGTERM (shutdown hooks run), then SIGKILL after STOP_TIMEOUT_S; seconds taken, None if not running."""
    if not _process_alive(pid, process):
        return None
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    deadline = started + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not _process_alive(pid, process):
            return time.monotonic() - started
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return time.monotonic() - started


def _wait(
    what: str,
    check: Callable[[], bool],
    children: dict[str, subprocess.Popen[bytes]],
    *,
    directory: Path,
    reused: dict[str, int] | None = None,
) -> None:
    """Return once `check()` holds; stop the `children` just started and raise if one exits or time runs out.

    Children are watched through their Popen handles; processes reused from an earlier `up` (`reused`)
    through their pid and marker.
    """
    deadline = time.monotonic() + START_TIMEOUT_S
    problem = f"{what} did not answer within {START_TIMEOUT_S:.0f} s"
    log = directory / f"{next(iter(children), 'engine')}.log"
    while time.monotonic() < deadline:
        exited = [name for name, child in children.items() if child.poll() is not None]
        exited += [name for name, pid in (reused or {}).items() if not _process_alive(pid, name)]
        if exited:
            log = directory / f"{exited[0]}.log"
            problem = f"{what}: {', '.join(exited)} exited while starting"
            break
        if check():
            return
        time.sleep(0.5)
    for name, child in children.items():
        if child.poll() is None:
            _stop(child.pid, name)
    tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
    raise EngineUnavailable(f"{problem}; {log} ends:\n" + "\n".join(tail))


# =====================================================================================================
# Trino and PrestoDB (both speak the Presto HTTP protocol)


def http_json(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def coordinator_info(port: int) -> dict[str, Any] | None:
    """GET /v1/info of the coordinator on `port`, or None when it does not answer yet."""
    try:
        info: dict[str, Any] = http_json(f"http://{HOST}:{port}/v1/info")
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return info


def statement_run(port: int, sql: str, *, prefix: str, catalog: str = "hive") -> list[list[Any]]:
    """Run one statement through the REST protocol (X-`prefix`-* headers) and return its rows."""
    headers = {f"X-{prefix}-User": "dispatchscope", f"X-{prefix}-Catalog": catalog}
    answer = http_json(f"http://{HOST}:{port}/v1/statement", data=sql.encode(), headers=headers)
    rows: list[list[Any]] = []
    while True:
        rows += answer.get("data") or []
        if "error" in answer:
            raise RuntimeError(f"{sql.split(chr(10))[0][:80]}: {answer['error'].get('message')}")
        if not answer.get("nextUri"):
            return rows
        time.sleep(0.02)
        answer = http_json(answer["nextUri"], headers=headers)


def warehouse_root() -> Path:
    """WAREHOUSE_ROOT as Dispatchscope's settings resolve it (the files DuckDB reads)."""
    sys.path.insert(0, str(ROOT))
    from dashboard.config import parse_warehouse, warehouse_root_resolve

    raw_root = os.environ.get("WAREHOUSE_ROOT", "").strip()
    config = parse_warehouse(
        os.environ.get("WAREHOUSE", "").strip(),
        var_dir=VAR_DIR,
        default_root=Path(raw_root) if raw_root else None,
    )
    return warehouse_root_resolve(warehouse=config, root=raw_root, var_dir=VAR_DIR).resolve()


def warehouse_ddl_apply(engine: str, port: int, root: Path, *, version: str) -> None:
    """Create schema `dispatch` over `root` on the engine, as `manage.py warehouse_ddl` prints it."""
    sys.path.insert(0, str(ROOT))
    from storage.warehouse.ddl import ddl_statements, local_location
    from storage.warehouse.schema import TABLES

    for table in TABLES:
        (root / table).mkdir(parents=True, exist_ok=True)
    # Trino before the native file systems (the Java 17 fallback) reads local files through Hadoop: file://.
    location = (
        f"file://{root}" if version == TRINO_JAVA17_VERSION else local_location(engine=engine, path=root)
    )
    prefix = "Trino" if engine == "trino" else "Presto"
    for statement in ddl_statements(engine=engine, location=location, catalog="hive", schema=SCHEMA):
        statement_run(port, statement, prefix=prefix)


def _trino_install(java: Java) -> tuple[Path, str]:
    """The unpacked Trino (core server with the Hive plugin), fetched if needed: (home, version)."""
    version = TRINO_VERSION if java.major >= 24 else TRINO_JAVA17_VERSION
    with _fetch_measured("trino"):
        if version == TRINO_VERSION:
            core = maven_get(f"io.trino:trino-server-core:{version}:tar.gz")
            hive = maven_get(f"io.trino:trino-hive:{version}:zip")

            def unpack(staging: Path) -> None:
                _tar_extract(core, staging)
                with zipfile.ZipFile(hive) as bundle:
                    bundle.extractall(staging / "plugin")
                (staging / "plugin" / f"trino-hive-{version}").rename(staging / "plugin" / "hive")

        else:
            full = maven_get(f"io.trino:trino-server:{version}:tar.gz")

            def unpack(staging: Path) -> None:
                _tar_extract(full, staging, ["lib", "plugin/hive"])

        home = _unpacked(CACHE_DIR / f"trino-{version}", unpack)
    return home, version


def _presto_install() -> Path:
    """The unpacked PrestoDB (lib and the Hive plugin only), with ASM swapped for one that reads Java 17."""
    with _fetch_measured("presto"):
        server = maven_get(f"com.facebook.presto:presto-server:{PRESTO_VERSION}:tar.gz")
        asm = [maven_get(f"org.ow2.asm:{name}:{ASM_VERSION}") for name in _ASM_ARTIFACTS]

        def unpack(staging: Path) -> None:
            _tar_extract(server, staging, ["lib", "plugin/hive-hadoop2"])
            for directory in (staging / "lib", staging / "plugin" / "hive-hadoop2"):
                for jar in directory.glob("asm-*.jar"):
                    jar.unlink()
                for jar in asm:
                    shutil.copy2(jar, directory)

        return _unpacked(CACHE_DIR / f"presto-{PRESTO_VERSION}-asm-{ASM_VERSION}", unpack)


_ASM_ARTIFACTS = ("asm", "asm-analysis", "asm-tree", "asm-util")


def _properties(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))


def coordinator_up(engine: str) -> EngineState:
    """Start Trino or PrestoDB (or reuse the running one) with the Hive catalog over WAREHOUSE_ROOT."""
    if engine == "trino":
        # DISPATCHSCOPE_TRINO_JAVA17=1 takes the Java 17 path on a machine that has a newer JDK too.
        newest = None if os.environ.get("DISPATCHSCOPE_TRINO_JAVA17") == "1" else java_find(24)
        java = newest or java_find(17)
        if java is None:
            raise EngineUnavailable("no Java 17 or newer (Trino 476 needs 24+; the Temurin 25 JDK works)")
        home, version = _trino_install(java)
        port, main = TRINO_PORT, "io.trino.server.TrinoServer"
    else:
        java = java_find(17)
        if java is None:
            raise EngineUnavailable("no Java 17 or newer for PrestoDB")
        home, version, port = _presto_install(), PRESTO_VERSION, PRESTO_PORT
        main = "com.facebook.presto.server.PrestoServer"
    directory = ENGINES_DIR / engine
    running = _reuse(engine, version)
    if running is not None:
        return running
    if port_open(port):
        raise EngineUnavailable(f"port {port} is taken by a process this script did not start")
    root = warehouse_root()
    etc, data = directory / "etc", directory / "data"
    shutil.rmtree(etc, ignore_errors=True)
    config = {
        "coordinator": "true",
        "node-scheduler.include-coordinator": "true",
        "http-server.http.port": str(port),
        "discovery.uri": f"http://{HOST}:{port}",
        # Small on purpose: three engines and the test run share 24 GiB and two cores.
        "query.max-memory": "512MB",
        "query.max-memory-per-node": "512MB",
    }
    catalog = {"connector.name": "hive", "hive.metastore": "file"}
    if engine == "presto":
        config |= {"discovery-server.enabled": "true", "query.max-total-memory-per-node": "600MB"}
        catalog |= {
            "connector.name": "hive-hadoop2",
            "hive.metastore.catalog.dir": (directory / "metastore").as_uri(),
            # Read Parquet columns by name, as Trino does, so a later added column cannot shift the others.
            "hive.parquet.use-column-names": "true",
        }
    elif version == TRINO_VERSION:
        # SIGTERM starts a graceful shutdown that waits this long for running tasks (default two minutes).
        config["shutdown.grace-period"] = "5s"
        catalog |= {
            "hive.metastore.catalog.dir": f"local://{directory / 'metastore'}",
            # Trino's own local file system: `local:///<absolute path>` under root "/".
            "fs.native-local.enabled": "true",
            "local.location": "/",
        }
    else:
        catalog |= {
            "connector.name": "hive-hadoop2",
            "hive.metastore.catalog.dir": (directory / "metastore").as_uri(),
        }
    _properties(etc / "config.properties", config)
    _properties(etc / "catalog" / "hive.properties", catalog)
    node = {
        "node.environment": "dispatchscope",
        "node.id": f"dispatchscope-{engine}",
        "node.data-dir": str(data),
        "node.bind-ip": HOST,
        "node.internal-address": HOST,
    }
    _properties(etc / "node.properties", node)
    arguments = [
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:ReservedCodeCacheSize=256M",
        "-Djdk.attach.allowAttachSelf=true",
        "-Dfile.encoding=UTF-8",
        *(
            ["-XX:+EnableDynamicAgentLoading", "--enable-native-access=ALL-UNNAMED"]
            if java.major >= 21
            else []
        ),
        *(_JAVA_OPENS if engine == "presto" else []),
        *(f"-D{key}={value}" for key, value in node.items()),
        f"-Dconfig={etc / 'config.properties'}",
        f"-Dcatalog.config-dir={etc / 'catalog'}",
        f"-Dplugin.dir={home / 'plugin'}",
        f"-Dlog.output-file={directory / 'server.log'}",
        "-Dlog.enable-console=false",
        "-cp",
        f"{home / 'lib'}/*",
        main,
    ]
    started = time.monotonic()
    child = _spawn(engine, java, arguments, directory=directory, heap=HEAP[engine])
    pids = {engine: child.pid}

    def ready() -> bool:
        info = coordinator_info(port)
        return info is not None and not info.get("starting", True)

    _wait(f"{engine} {version}", ready, {engine: child}, directory=directory)
    warehouse_ddl_apply(engine, port, root, version=version)
    seconds = time.monotonic() - started
    state = EngineState(
        engine=engine,
        version=str(((coordinator_info(port) or {}).get("nodeVersion") or {}).get("version", version)),
        host=HOST,
        port=port,
        pids=pids,
        started_at=time.time(),
        start_seconds=round(seconds, 1),
        java=f"{java.major} ({java.home})",
        url=f"{engine}://dispatchscope@{HOST}:{port}/hive/{SCHEMA}",
        extra={"warehouse_root": str(root), "pinned": version},
    )
    _state_write(state)
    return state


# =====================================================================================================
# HBase


_HBASE_POM = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by tools/engines.py: the classpath of a standalone HBase {version} and its Thrift gateway. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dispatchscope.engines</groupId>
  <artifactId>hbase-standalone</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.hbase</groupId><artifactId>hbase-server</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.apache.hbase</groupId><artifactId>hbase-thrift</artifactId><version>{version}</version></dependency>
  </dependencies>
</project>
"""


def _hbase_classpath() -> str:
    """The classpath of hbase-server and hbase-thrift with every runtime dependency, resolved by Maven."""
    saved = CACHE_DIR / f"hbase-{HBASE_VERSION}.classpath"
    if saved.exists():
        entries = saved.read_text().strip()
        if entries and all(Path(p).exists() for p in entries.split(":")):
            return entries
    pom = ENGINES_DIR / "hbase" / "pom.xml"
    pom.parent.mkdir(parents=True, exist_ok=True)
    pom.write_text(_HBASE_POM.format(version=HBASE_VERSION))
    with _fetch_measured("hbase"):
        command = [
            *(_maven(), "-B", "-q", "-C", f"-Dmaven.repo.local={MAVEN_REPO}", "-f", str(pom)),
            *(
                f"{DEPENDENCY_PLUGIN}:build-classpath",
                f"-Dmdep.outputFile={saved}",
                "-Dmdep.includeScope=runtime",
            ),
        ]
        result = subprocess.run(command, capture_output=True, text=True, cwd=CACHE_DIR)
    if result.returncode != 0 or not saved.exists():
        errors = [line for line in result.stdout.splitlines() if "ERROR" in line][:2]
        raise EngineUnavailable(f"Maven could not resolve HBase {HBASE_VERSION}: {' '.join(errors)}")
    return saved.read_text().strip()


def _hbase_site(directory: Path) -> str:
    data = directory / "data"
    values = {
        "hbase.cluster.distributed": "false",
        "hbase.rootdir": (data / "hbase").as_uri(),
        "hbase.tmp.dir": str(data / "tmp"),
        "hbase.zookeeper.quorum": HOST,
        "hbase.zookeeper.property.clientPort": str(HBASE_ZOOKEEPER_PORT),
        "hbase.zookeeper.property.dataDir": str(data / "zookeeper"),
        # The local file system has no hflush/hsync capability; HBase refuses it unless told.
        "hbase.unsafe.stream.capability.enforce": "false",
        "hbase.master.port": str(HBASE_MASTER_PORT),
        "hbase.regionserver.port": str(HBASE_REGIONSERVER_PORT),
        "hbase.master.ipc.address": HOST,
        "hbase.regionserver.ipc.address": HOST,
        "hbase.master.hostname": HOST,
        "hbase.regionserver.hostname": HOST,
        "hbase.master.info.port": "-1",
        "hbase.regionserver.info.port": "-1",
        "hbase.thrift.info.port": "-1",
        # The gateway polls the master while a table is created; the default 100 ms pause makes each
        # CREATE take about 0.7 s here.
        "hbase.client.pause": "10",
        # Fail a call to a stopped region server within seconds, not the default minutes of retries.
        "hbase.client.retries.number": "5",
        "hbase.rpc.timeout": "10000",
        "hbase.client.operation.timeout": "20000",
    }
    properties = "".join(
        f"  <property><name>{key}</name><value>{value}</value></property>\n" for key, value in values.items()
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{properties}</configuration>\n'


_LOG4J = """log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %-5p [%t] %c{2}: %m%n
"""


def hbase_thrift_answers(port: int) -> bool:
    """True when the Thrift gateway lists tables (so the master, meta region and gateway all work)."""
    try:
        import happybase
    except ImportError:
        return port_open(port)
    try:
        connection = happybase.Connection(
            HOST, port, timeout=5000, transport=HBASE_TRANSPORT, protocol=HBASE_PROTOCOL, autoconnect=True
        )
        try:
            connection.tables()
        finally:
            connection.close()
    except Exception:
        return False
    return True


def _hbase_arguments(directory: Path, classpath: str, main: str, *extra: str) -> list[str]:
    conf = directory / "conf"
    return [
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        "-XX:+IgnoreUnrecognizedVMOptions",
        *_JAVA_OPENS,
        "-Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true",
        f"-Dlog4j.configuration={(conf / 'log4j.properties').as_uri()}",
        "-Djava.net.preferIPv4Stack=true",
        "-cp",
        f"{conf}:{classpath}",
        main,
        *extra,
    ]


def hbase_up() -> EngineState:
    """Start standalone HBase and its Thrift gateway, reusing whichever of the two still runs."""
    java = java_find(17)
    if java is None:
        raise EngineUnavailable("no Java 17 or newer for HBase")
    classpath = _hbase_classpath()
    directory = ENGINES_DIR / "hbase"
    running = _reuse("hbase", HBASE_VERSION)
    if running is not None:
        return running
    previous = state_read("hbase")
    master_pid = previous.pids.get("hbase-master", 0) if previous else 0
    started = time.monotonic()
    reused: dict[str, int] = {}
    children: dict[str, subprocess.Popen[bytes]] = {}
    if master_pid and _process_alive(master_pid, "hbase-master"):
        reused["hbase-master"] = master_pid
    else:
        for port in (HBASE_THRIFT_PORT, HBASE_ZOOKEEPER_PORT, HBASE_MASTER_PORT, HBASE_REGIONSERVER_PORT):
            if port_open(port):
                raise EngineUnavailable(f"port {port} is taken by a process this script did not start")
        (directory / "conf").mkdir(parents=True, exist_ok=True)
        (directory / "conf" / "hbase-site.xml").write_text(_hbase_site(directory))
        (directory / "conf" / "log4j.properties").write_text(_LOG4J)
        master = _hbase_arguments(directory, classpath, "org.apache.hadoop.hbase.master.HMaster", "start")
        children["hbase-master"] = _spawn(
            "hbase-master", java, master, directory=directory, heap=HEAP["hbase"]
        )
    if port_open(HBASE_THRIFT_PORT):
        raise EngineUnavailable(f"port {HBASE_THRIFT_PORT} is taken by a process this script did not start")
    thrift = _hbase_arguments(
        directory,
        classpath,
        "org.apache.hadoop.hbase.thrift.ThriftServer",
        *("-p", str(HBASE_THRIFT_PORT), "--bind", HOST, "--infoport", "-1"),
        # -hsha serves the framed transport; -c the compact protocol: what HBASE_TRANSPORT/PROTOCOL name.
        *("-hsha", "-f", "-c", "start"),
    )
    children["hbase-thrift"] = _spawn(
        "hbase-thrift", java, thrift, directory=directory, heap=HEAP["hbase-thrift"]
    )
    _wait(
        f"HBase {HBASE_VERSION}",
        lambda: hbase_thrift_answers(HBASE_THRIFT_PORT),
        children,
        directory=directory,
        reused=reused,
    )
    pids = reused | {name: child.pid for name, child in children.items()}
    seconds = time.monotonic() - started
    state = EngineState(
        engine="hbase",
        version=HBASE_VERSION,
        host=HOST,
        port=HBASE_THRIFT_PORT,
        pids=pids,
        started_at=time.time(),
        start_seconds=round(seconds, 1),
        java=f"{java.major} ({java.home})",
        url=(
            f"hbase://{HOST}:{HBASE_THRIFT_PORT}/dispatch"
            f"?transport={HBASE_TRANSPORT}&protocol={HBASE_PROTOCOL}&salts=16"
        ),
        extra={
            "transport": HBASE_TRANSPORT,
            "protocol": HBASE_PROTOCOL,
            "zookeeper_port": HBASE_ZOOKEEPER_PORT,
        },
    )
    _state_write(state)
    return state


# =====================================================================================================
# Commands


def _state_write(state: EngineState) -> None:
    path = _state_path(state.engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2, sort_keys=True) + "\n")
    temporary.replace(path)


def _reuse(engine: str, version: str) -> EngineState | None:
    """The recorded state when every process of `engine` at `version` still runs and answers."""
    state = state_read(engine)
    if state is None or state.extra.get("pinned", state.version) != version:
        return None
    if not all(_process_alive(pid, process) for process, pid in state.pids.items()):
        return None
    if engine == "hbase":
        return state if hbase_thrift_answers(state.port) else None
    info = coordinator_info(state.port)
    return state if info and not info.get("starting", True) else None


def engine_down(engine: str, *, processes: Sequence[str] = ()) -> list[str]:
    """Stop the processes `up` recorded for `engine` (all, or the named ones); the names stopped."""
    state = state_read(engine)
    if state is None:
        return []
    stopped = []
    # The HBase gateway goes first, so no client call reaches a master that is shutting down.
    for process, pid in sorted(state.pids.items(), key=lambda item: item[0] != "hbase-thrift"):
        if processes and process not in processes:
            continue
        seconds = _stop(pid, process)
        if seconds is not None:
            stopped.append(f"{process} in {seconds:.1f} s")
    if not processes:
        _state_path(engine).unlink(missing_ok=True)
    return stopped


def engine_up(engine: str) -> EngineState:
    """Bring one engine up (see the module docstring); EngineUnavailable says why it cannot."""
    if engine == "hbase":
        return hbase_up()
    return coordinator_up(engine)


def _describe(state: EngineState) -> str:
    rss = sum(_rss_mb(pid) for pid in state.pids.values())
    return (
        f"{state.engine} {state.version} on {state.host}:{state.port}: RSS {rss:.0f} MB, "
        f"started in {state.start_seconds:.0f} s, Java {state.java.split()[0]}; {state.url}"
    )


def _parallel_up(engines: Sequence[str]) -> dict[str, EngineState | Exception]:
    # The engines start in threads: each spends most of its start-up in its own JVM.
    import concurrent.futures

    results: dict[str, EngineState | Exception] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(engines)) as pool:
        # Smallest download first, so each engine starts while the next one downloads.
        ordered = sorted(engines, key=FETCH_ORDER.index)
        futures = {pool.submit(engine_up, engine): engine for engine in ordered}
        for future in concurrent.futures.as_completed(futures):
            engine = futures[future]
            try:
                results[engine] = future.result()
            except EngineUnavailable as exc:
                results[engine] = exc
            except Exception as exc:  # an unexpected failure of one engine must not hide the others
                results[engine] = exc
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """`up` exits 0 even when an engine cannot start (its suites skip, or fail under CI); `--strict` not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("engines", nargs="*", metavar="engine", help=f"any of {', '.join(ENGINE_NAMES)}")
    parser.add_argument("--only", choices=["hbase-thrift"], help="down hbase: stop just the Thrift gateway")
    parser.add_argument("--strict", action="store_true", help="up: exit 1 when an engine cannot start")
    options = parser.parse_intermixed_args(argv)
    unknown = sorted(set(options.engines) - set(ENGINE_NAMES))
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(ENGINE_NAMES)}")
    engines: list[str] = list(options.engines) or list(ENGINE_NAMES)
    if options.action == "down":
        for engine in engines:
            stopped = engine_down(engine, processes=[options.only] if options.only else [])
            print(f"{engine}: stopped {', '.join(stopped)}" if stopped else f"{engine}: not running")
        return 0
    if options.action == "status":
        for engine in engines:
            state = _reuse_any(engine)
            print(_describe(state) if state else f"{engine}: down")
        downloads = Downloads().read()
        for engine, figures in sorted(downloads.items()):
            print(
                f"first download of {engine}: {figures['bytes'] / 1e6:.0f} MB in {figures['seconds']:.0f} s"
            )
        return 0
    results = _parallel_up(engines)
    failed = False
    for engine in engines:
        result = results[engine]
        if isinstance(result, Exception):
            failed = True
            print(f"{engine}: NOT STARTED — {result}; its suites will skip (and fail under CI=true)")
        else:
            print(_describe(result))
    return 1 if failed and options.strict else 0


def _reuse_any(engine: str) -> EngineState | None:
    state = state_read(engine)
    if state is None:
        return None
    return _reuse(engine, state.extra.get("pinned", state.version))


if __name__ == "__main__":
    sys.exit(main())
