"""Hosts on one machine with a real network between them.

`Network` makes one Linux network namespace per host (a chat process, Redis,
PostgreSQL), each with one interface `eth0` on a private /24 it picks
(10.231.N.0/24, N unused on this machine), all joined by a bridge in a
switch namespace. The test process itself is the clients' host: one veth
from the root namespace to the bridge, address .254, and the route to that
/24 only; nothing is routed further, so nothing leaves the machine.

Each host's link is a user-space wire (testing/netwire.py) because this
machine's kernel has no `sch_netem`: `delay(host, ms, loss)` is netem's
delay and loss on that host's link, `down(host)`/`up(host)` cut and restore
it silently (a pulled cable: no RST, no error, TCP just retransmits), and
`block(a, b)` drops everything between two hosts whose links stay up.

Everything is removed on `close()`, also after a failure: every process in
the namespaces (`ip netns pids`), the namespaces, the wire, the veth. A run
that was SIGKILLed cannot clean up: its marker in /run/chat-netns names its
pid, and the next run removes what a dead pid left.
"""

import functools
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import cast

import psycopg

from .faults import RedisServer
from .servers import ROOT
from .services import require


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


@cache
def netns_problem() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "not root (network namespaces need CAP_NET_ADMIN)"
    if not shutil.which("ip"):
        return "no `ip` command (apt-get install -y iproute2)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun (the user-space wire needs TAP devices)"
    if not shutil.which("redis-server"):
        return "no redis-server"
    if not postgres_bindir():
        return "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
    name = f"mhprobe{secrets.token_hex(3)}"
    try:
        _run("ip", "netns", "add", name)
    except (RuntimeError, OSError) as exc:
        return f"cannot make a network namespace: {exc}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def require_netns() -> None:
    require("Network namespaces", netns_problem())


def postgres_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return found[-1].parent if found else None


MARKERS = Path("/run/chat-netns")


def _remove(tag: str) -> None:
    """Remove a network's namespaces, their processes and its veth."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in listed.stdout.splitlines():
        netns = line.split()[0] if line.split() else ""
        if not netns.startswith(f"{tag}-"):
            continue
        pids = subprocess.run(
            ["ip", "netns", "pids", netns], capture_output=True, text=True
        ).stdout.split()
        for pid in pids:  # anything in our namespaces was started by us
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", netns], capture_output=True)
    subprocess.run(["ip", "link", "del", f"{tag}-cl"], capture_output=True)


def _remove_abandoned() -> None:
    """Networks whose test process died without closing them."""
    for marker in MARKERS.glob("mh*"):
        try:
            os.kill(int(marker.read_text()), 0)
            continue  # its process lives: not ours to touch
        except ProcessLookupError:
            pass
        except (ValueError, OSError):
            continue
        _remove(marker.name)
        marker.unlink(missing_ok=True)


def _free_subnet() -> int:
    used = _run("ip", "-4", "addr") + _run("ip", "-4", "route")
    free = [n for n in range(1, 255) if f"10.231.{n}." not in used]
    return random.choice(free)


class Host:
    def __init__(self, network: "Network", name: str, ip: str) -> None:
        self.network, self.name, self.ip = network, name, ip
        self.netns = f"{network.tag}-{name}"

    def wrap(self) -> tuple[str, ...]:
        """Prefix of a command that runs in this host's namespace."""
        return ("ip", "netns", "exec", self.netns)


class Network:
    def __init__(self, *names: str) -> None:
        require_netns()
        MARKERS.mkdir(parents=True, exist_ok=True)
        _remove_abandoned()
        self.tag = f"mh{secrets.token_hex(2)}"
        (MARKERS / self.tag).write_text(str(os.getpid()))
        self.subnet = _free_subnet()
        self.hosts = {
            name: Host(self, name, f"10.231.{self.subnet}.{i + 1}")
            for i, name in enumerate(names)
        }
        self.client_ip = f"10.231.{self.subnet}.254"
        self.switch = f"{self.tag}-sw"
        self.wire: subprocess.Popen | None = None
        self._procs: list[subprocess.Popen] = []
        self._clusters: list[PostgresCluster] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def _build(self) -> None:
        ip = lambda *args: _run("ip", *args)  # noqa: E731
        ip("netns", "add", self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        self.wire = subprocess.Popen(
            [sys.executable, "-m", "testing.netwire", self.tag, *self.hosts],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.wire.stdout is not None
        if self.wire.stdout.readline().strip() != "ready":
            raise RuntimeError("the wire did not start")
        for name, host in self.hosts.items():
            ip("netns", "add", host.netns)
            ip("-n", host.netns, "link", "set", "lo", "up")
            ip(
                "link",
                "set",
                f"{self.tag}-{name}-h",
                "netns",
                host.netns,
                "name",
                "eth0",
            )
            ip("-n", host.netns, "addr", "add", f"{host.ip}/24", "dev", "eth0")
            ip("-n", host.netns, "link", "set", "eth0", "up")
            port = f"{self.tag}-{name}-s"
            ip("link", "set", port, "netns", self.switch)
            ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        # The clients' host: the test process, in the root namespace.
        ip("link", "add", f"{self.tag}-cl", "type", "veth", "peer", f"{self.tag}-cp")
        ip("link", "set", f"{self.tag}-cp", "netns", self.switch)
        ip("-n", self.switch, "link", "set", f"{self.tag}-cp", "master", "br0", "up")
        ip("addr", "add", f"{self.client_ip}/24", "dev", f"{self.tag}-cl")
        ip("link", "set", f"{self.tag}-cl", "up")

    # --- processes in hosts ---

    def popen(self, host: Host, command: list[str], **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(
            [*host.wrap(), *command], start_new_session=True, **kwargs
        )
        self._procs.append(proc)
        return proc

    def redis(self, host: Host, tmp_path: Path) -> RedisServer:
        return RedisServer(tmp_path, host=host.ip, wrap=host.wrap()).start()

    def postgres(self, host: Host) -> "PostgresCluster":
        cluster = PostgresCluster(self, host)
        self._clusters.append(cluster)
        return cluster.start()

    # --- the wire ---

    def _wire(self, *words: str) -> None:
        assert self.wire and self.wire.stdin and self.wire.stdout
        self.wire.stdin.write(" ".join(words) + "\n")
        self.wire.stdin.flush()
        answer = self.wire.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError(f"wire {' '.join(words)}: {answer or 'gone'}")

    def delay(self, host: Host, ms: float, loss_percent: float = 0) -> None:
        """netem on `host`'s link, both ways: each way adds `ms`."""
        self._wire("set", host.name, str(ms), str(loss_percent))

    def down(self, host: Host) -> None:
        self._wire("down", host.name)

    def up(self, host: Host) -> None:
        self._wire("up", host.name)

    def block(self, a: Host, b: Host) -> None:
        self._wire("block", a.ip, b.ip)

    def unblock(self, a: Host, b: Host) -> None:
        self._wire("unblock", a.ip, b.ip)

    # --- clean-up ---

    def close(self) -> None:
        for cluster in self._clusters:
            cluster.stop()
        for proc in self._procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        _remove(self.tag)
        if self.wire and self.wire.poll() is None:
            assert self.wire.stdin is not None
            self.wire.stdin.close()
            try:
                self.wire.wait(5)
            except subprocess.TimeoutExpired:
                self.wire.kill()
                self.wire.wait(5)
        for cluster in self._clusters:
            cluster.remove()
        self._clusters = []
        (MARKERS / self.tag).unlink(missing_ok=True)


class PostgresCluster:
    """A throwaway PostgreSQL cluster (initdb as `postgres`, trust auth)
    listening on its host's address only; without a network, on loopback
    at `port` (the benchmark's loopback run, bench/multihost.py)."""

    def __init__(
        self, network: Network | None, host: Host | None, port: int = 5432
    ) -> None:
        self.network, self.host = network, host
        self.ip = host.ip if host else "127.0.0.1"
        self.datadir = tempfile.mkdtemp(prefix="mh-pg-")
        shutil.chown(self.datadir, "postgres", "postgres")
        self.proc: subprocess.Popen | None = None
        self.port = port
        self.url = f"postgres://postgres@{self.ip}:{port}/postgres"

    def start(self) -> "PostgresCluster":
        bindir = postgres_bindir()
        assert bindir is not None
        as_postgres = ["runuser", "-u", "postgres", "--"]
        _run(
            *as_postgres,
            str(bindir / "initdb"),
            "-D",
            self.datadir,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        if self.network:
            with open(f"{self.datadir}/pg_hba.conf", "a") as hba:
                hba.write(f"host all all 10.231.{self.network.subnet}.0/24 trust\n")
        popen = (
            functools.partial(self.network.popen, cast(Host, self.host))
            if self.network
            else functools.partial(subprocess.Popen, start_new_session=True)
        )
        self.proc = popen(
            [
                *as_postgres,
                str(bindir / "postgres"),
                "-D",
                self.datadir,
                "-p",
                str(self.port),
                "-c",
                f"listen_addresses={self.ip}",
                "-c",
                f"unix_socket_directories={self.datadir}",
                "-c",
                "max_connections=300",
                # A disposable cluster: durability is not what is tested.
                "-c",
                "fsync=off",
            ],
            stdout=open(f"{self.datadir}.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=1).close()
                return self
            except psycopg.OperationalError as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    log = Path(self.datadir + ".log").read_text()
                    raise RuntimeError(f"postgres did not start: {log}") from exc
                time.sleep(0.1)  # a server that is not listening yet

    def database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rpartition("/")[0] + f"/{name}"

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def remove(self) -> None:
        shutil.rmtree(self.datadir, ignore_errors=True)
        Path(self.datadir + ".log").unlink(missing_ok=True)
