"""The benchmark's tiny scenario against real server processes: every post
reaches every member once. Speed is the benchmark's to print, never asserted."""

import json
import os
import subprocess
import sys

from testing.servers import ROOT


def test_bench_quick_run_loses_and_duplicates_nothing(tmp_path):
    """`python -m bench --quick` on the chat server: S1, S2, S4 (one big room)
    and V2 (one /ws/ socket per user, several rooms each), saturating and at
    half rate, and connect end with zero loss, zero duplicates, zero errors."""
    out = tmp_path / "rows.json"
    # The embedded defaults (fresh SQLite, in-memory layer), whatever CI exports.
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--apps",
            "chat",
            "--only",
            "s1,s2,s4,v2,connect",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())
    assert {r["scenario"] for r in rows} == {
        "S1",
        "S1 @½ rate",
        "S2",
        "S2 @½ rate",
        "S4",
        "S4 @½ rate",
        "V2",
        "V2 @½ rate",
        "connect",
    }
    for row in rows:
        assert (row["loss"], row["duplicates"], row["errors"]) == (0, 0, {}), row
    for row in rows:
        if row["scenario"] != "connect":
            assert row["deliveries_per_s"] > 0, row
        else:
            assert row["connect_s"] is not None, row
