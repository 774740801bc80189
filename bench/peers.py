"""`python -m bench --peers`: the relays people pick instead, as extra rows.

Node `ws` and socket.io 4 servers (bench/node/*.js) speaking the bare
reference's frames, measured by the same S1, S2 and connect scenarios (server
CPU per delivery is the column to compare: the load generator shares the
cores). Their npm packages are installed once into CACHE (never at test
time); without `node` and `npm` the rows say so.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from testing.servers import ROOT, free_port

from .servers import Server

CACHE = Path.home() / ".cache" / "chat-bench-node"
PACKAGES = ("ws@8", "socket.io@4")
PEERS = {"node ws": ("ws_server.js", False), "socket.io": ("sio_server.js", True)}


def node_modules() -> Path | str:
    """The cache's node_modules (installing the packages the first time), or
    why the peers cannot run."""
    if not (shutil.which("node") and shutil.which("npm")):
        return "skipped: needs node and npm"
    modules = CACHE / "node_modules"
    if not all((modules / name.split("@")[0]).is_dir() for name in PACKAGES):
        CACHE.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE)]
            + list(PACKAGES),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            return f"skipped: npm install failed: {result.stderr[-200:]}"
    return modules


async def run_peers(run) -> list:
    from .runner import Row

    modules = node_modules()
    if isinstance(modules, str):
        return [Row("peers", "node", note=modules)]
    env = {**run.env, "NODE_PATH": str(modules)}
    plan = run.plan
    rows: list = []
    for app, (script, socketio) in PEERS.items():
        port = free_port()
        server = Server(
            f"node {script}",
            port,
            env,
            run.workdir / f"{script}.log",
            argv=["node", str(ROOT / "bench" / "node" / script), str(port)],
        ).start()
        try:
            for label, shape in (("S1", plan.s1), ("S2", plan.s2)):
                rows += await run._attempt(
                    label,
                    app,
                    run.fanout(
                        label, app, shape, [server], f"n{label}", socketio=socketio
                    ),
                )
        finally:
            server.stop()
        if "connect" in run.only:
            server = Server(
                f"node {script}",
                port := free_port(),
                env,
                run.workdir / f"{script}-connect.log",
                argv=["node", str(ROOT / "bench" / "node" / script), str(port)],
            ).start()
            try:
                rooms = [f"s2-r{r}" for r in range(plan.connect_rooms)]
                rows += await run._attempt(
                    "connect",
                    app,
                    run.connect(
                        app, server, rooms, plan.connections, socketio=socketio
                    ),
                )
            finally:
                server.stop()
    print(f"peers: node packages from {modules}", file=sys.stderr)
    return rows
