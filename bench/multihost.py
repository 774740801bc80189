"""The fan-out scenarios across three chat processes on three hosts.

    python -m bench.multihost                   # loopback, then hosts 0 and 1 ms apart
    python -m bench.multihost --modes hosts --delays 1 --seconds 5

S1 (one room) and S2 (many small rooms) as in `python -m bench`, members
split over three chat processes sharing Redis and PostgreSQL, in each mode:

- `loopback`: the three processes, redis-server and a PostgreSQL cluster of
  our own, all on 127.0.0.1.
- `hosts`: each process, Redis and PostgreSQL in its own network namespace
  (testing/netns.py), each of `--delays` ms one way between any two hosts
  (half on each host's link). The links are a user-space wire (this kernel
  has no netem), whose own cost is part of the figure: delay 0 measures it
  alone.

Needs root (namespaces), redis-server and PostgreSQL's server binaries.
Same PostgreSQL settings in both modes (fsync off: a throwaway cluster).
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from testing.faults import RedisServer
from testing.netns import Network, PostgresCluster, netns_problem
from testing.servers import free_port

from .runner import Plan, Row, Run, Shape, table
from .servers import Server

SMALL = Plan(Shape(1, 30, 8), Shape(30, 5, 2), 0, 0, 1.0, 3.0)


class HostedRun(Run):
    """Run's fan-out on chat processes at given (address, command prefix)."""

    def __init__(self, plan: Plan, workdir: Path, label: str, hosts: list) -> None:
        super().__init__(plan, workdir, {"s3"}, {"chat"})
        self.label, self.hosts = label, hosts
        self.env["ALLOWED_HOSTS"] = ",".join({ip for ip, _ in hosts})

    def chat_on(self, i: int) -> Server:
        ip, wrap = self.hosts[i]
        port = free_port()
        argv = [*wrap, sys.executable, "-m", "config.serve"]
        argv += ["--host", ip, "--port", str(port)]
        log = self.workdir / f"{self.label}-chat-{i}.log"
        return Server(f"chat@{ip}", port, self.env, log, argv=argv, host=ip).start()

    async def across(self) -> None:
        servers = [self.chat_on(i) for i in range(len(self.hosts))]
        try:
            plan = self.plan
            for name, shape, prefix in (("S1", plan.s1, "m1"), ("S2", plan.s2, "m2")):
                # "S3" in the label: Run.fanout counts Redis commands per post.
                label = f"S3 ({name}) {self.label}"
                self.rows += await self._attempt(
                    label, "chat", self.fanout(label, "chat", shape, servers, prefix)
                )
        finally:
            for server in servers:
                server.stop()


def run_mode(mode: str, delay: float, plan: Plan, workdir: Path) -> list[Row]:
    import uvloop

    network = None
    redis_server = cluster = None
    try:
        if mode == "loopback":
            redis_server = RedisServer(workdir).start()
            cluster = PostgresCluster(None, None, port=free_port()).start()
            hosts: list[tuple[str, tuple[str, ...]]] = [("127.0.0.1", ())] * 3
            label = "loopback"
        else:
            network = Network("c1", "c2", "c3", "redis", "pg")
            for host in network.hosts.values():
                network.delay(host, delay / 2)
            redis_server = network.redis(network["redis"], workdir)
            cluster = network.postgres(network["pg"])
            hosts = [(network[c].ip, network[c].wrap()) for c in ("c1", "c2", "c3")]
            label = f"hosts {delay:g} ms"
        os.environ["REDIS_URL"] = redis_server.url
        os.environ["DATABASE_URL"] = cluster.url
        run = HostedRun(plan, workdir, label.replace(" ", "-"), hosts)
        run.label = label
        try:
            run.prepare()
            uvloop.run(run.across())
        finally:
            run.close()
        return run.rows
    finally:
        if redis_server:
            redis_server.stop()
        if cluster and not network:
            cluster.stop()
            cluster.remove()
        if network:
            network.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.multihost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--modes", default="loopback,hosts", help="loopback,hosts")
    parser.add_argument(
        "--delays", default="0,1", help="ms one way between hosts, one run each"
    )
    parser.add_argument("--seconds", type=float, help="measured seconds per phase")
    args = parser.parse_args(argv)
    if problem := netns_problem():
        print(f"cannot build hosts here: {problem}", file=sys.stderr)
        return 2
    plan = SMALL
    if args.seconds:
        plan.seconds = args.seconds
    rows: list[Row] = []
    workdir = Path(tempfile.mkdtemp(prefix="chat-bench-mh-"))
    try:
        for mode in args.modes.split(","):
            delays = [0.0] if mode == "loopback" else args.delays.split(",")
            for delay in delays:
                rows += run_mode(mode, float(delay), plan, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\nmachine: {os.cpu_count()} CPUs; 3 chat processes, Redis pub/sub, "
        f"PostgreSQL; S1 {plan.s1.members} members, S2 {plan.s2.rooms}×"
        f"{plan.s2.members}; {plan.seconds:g} s per phase"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
