"""Load test: mixed family traffic against the server as ``./dev run`` starts it, printed as
figures, with the old single-process server as the peer in the same run.

    .venv/bin/python bench/load.py [--duration 60] [--connections 50] [--no-peer] [--no-restart]

What it does (Debian's ``wrk`` drives the traffic; ``./dev bench load`` installs it):

1. Starts a PostgreSQL cluster of its own (``/var/tmp/mapservice-load-<hash>``, the same
   kind as the private cluster; restarting it disturbs nothing else) with the database
   ``mapservice_bench_load``, migrated and loaded with the bundled data by ``mapservice serve``
   itself, as ``./dev run`` does. The cluster is stopped at the end.
2. **gunicorn**: starts ``mapservice serve`` on a free port (workers and threads from the cores,
   or MAPSERVICE_WORKERS/THREADS; every other MAPSERVICE_* setting applies too) and sends
   ``--connections`` clients of mixed traffic for ``--duration`` seconds (``loadkit.traffic``).
   Prints requests/s, p50/p95/p99, 503s, errors (any other 4xx/5xx or broken connection),
   timeouts (wrk's ``--timeout``, 2 s) and statuses.
3. **database restart**: the same traffic again, with ``pg_ctl restart -m fast`` of the
   cluster halfway: the 503s (expected, with Retry-After), everything else (must be 0), and
   the seconds from the restart until every request answers again (a probe asks
   ``/api/ready`` and ``/api/reachable`` in turn every 50 ms).
4. **peer**: the same traffic against the single-process waitress server the service used
   before (8 threads), so the ratio is visible.

The parts live in ``bench/loadkit/`` (servers, traffic, wrk, restart). The machine may be
shared: the figures say what this run saw, nothing more; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from loadkit.cpu import postmaster_pid, tree_cpu_seconds
from loadkit.restart import run_with_restart
from loadkit.servers import DATABASE, bench_cluster_dir, gunicorn_server, waitress_server
from loadkit.traffic import traffic
from loadkit.wrk import TIMEOUT_S, Run, lua_script, run_wrk

from mapservice.db import PoolSettings
from mapservice.pgcluster import local_cluster
from mapservice.serving.settings import available_cores, default_workers


def print_runs(runs: list[Run], connections: int) -> None:
    print(f"\n{connections} clients, mixed traffic, wrk timeout {TIMEOUT_S} s:")
    header = f"  {'server':<40} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    print(header + f" {'503':>5} {'errors':>7} {'timeouts':>8}  statuses")
    for run in runs:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items()))
        print(
            f"  {run.name:<40} {run.rate:7.1f} {run.p50_ms:8.1f} {run.p95_ms:8.1f}"
            f" {run.p99_ms:8.1f} {run.unavailable:5d} {run.errors:7d} {run.timeouts:8d}"
            f"  {statuses}"
        )
        for note in run.notes:
            print(f"  {'':<40} {note}")
    served = next((r for r in runs if r.name == "gunicorn"), None)
    restarted = next((r for r in runs if r.name.startswith("gunicorn, database")), None)
    peer = next((r for r in runs if r.name.startswith("waitress")), None)
    if served and peer and peer.rate:
        print(
            f"\n  gunicorn / waitress: {served.rate / peer.rate:.1f}x requests/s, p99 "
            f"{served.p99_ms:.0f} ms vs {peer.p99_ms:.0f} ms"
        )
    if served:
        ok = (
            served.errors == 0
            and served.unavailable == 0
            and served.timeouts == 0
            and served.p99_ms <= 1000
        )
        print(f"  target (0 errors, 0 timeouts, p99 <= 1 s): {'met' if ok else 'NOT met'}")
    if restarted:
        ok = restarted.errors == 0
        print(
            "  restart target (only 503s besides 200s; timeouts counted apart): "
            f"{'met' if ok else 'NOT met'}; {restarted.timeouts} timeouts"
        )


def cpu_note(run: Run, server_s: float, database_s: float, cores: int, clients: int) -> str:
    """What the run cost in CPU time, and what that allows on idle cores: with ``clients``
    always waiting for an answer, each waits clients / requests-per-second on average."""
    if not run.requests:
        return "no request answered"
    per_request = (server_s + database_s) / run.requests
    ceiling = cores / per_request if per_request else 0.0
    wait = clients / ceiling if ceiling else 0.0
    return (
        f"CPU: server {server_s:.1f} s, database {database_s:.1f} s = "
        f"{per_request * 1000:.0f} ms per request; {cores} idle cores: at most "
        f"{ceiling:.0f} requests/s, a mean wait of {wait:.2f} s for {clients} clients"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--warm-up", type=int, default=15, help="seconds of traffic first")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-restart", action="store_true")
    parser.add_argument("--logs", help="keep the servers' logs in this folder")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk (./dev bench load installs it)")
        return 1
    # The servers started below inherit this: they and the restart use the bench's cluster.
    os.environ["MAPSERVICE_PG_DIR"] = str(bench_cluster_dir())
    cluster = local_cluster()
    cluster.start()
    try:
        return measure(options, cluster.ensure_database(DATABASE))
    finally:
        cluster.stop()


def measure(options: argparse.Namespace, url: str) -> int:
    cores = available_cores()
    workers = os.environ.get("MAPSERVICE_WORKERS") or default_workers(cores)
    threads = os.environ.get("MAPSERVICE_THREADS") or 4
    pool = PoolSettings.from_config(
        {
            "THREADS": threads,
            **{
                key.removeprefix("MAPSERVICE_"): value
                for key, value in os.environ.items()
                if key.startswith("MAPSERVICE_DB_")
            },
        }
    )
    load = os.getloadavg()
    print(
        f"Machine: {cores} cores, load average {load[0]:.1f} at the start (shared machine: "
        "other work on it slows every figure)"
    )
    print(
        f"gunicorn: {workers} processes x {threads} threads, database pools of "
        f"{pool.size} + {pool.overflow} per engine, {pool.timeout:g} s pool timeout; "
        "peer: waitress, 1 process x 8"
    )
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as folder:
        logs = Path(options.logs or folder)
        logs.mkdir(parents=True, exist_ok=True)
        with gunicorn_server(logs / "gunicorn.log") as (base, server_pid):
            paths = traffic(base)
            script = lua_script(paths, logs, options.connections)
            print(
                f"Traffic: {len(paths)} distinct requests, drawn at random, from "
                f"{options.connections} client addresses behind one trusted proxy hop"
            )
            # Every worker's first requests load templates, catalogues and the walking graph.
            run_wrk("warm-up", base, script, options.warm_up, options.connections)
            database_pid = postmaster_pid(local_cluster().data_dir)
            before = (tree_cpu_seconds(server_pid), tree_cpu_seconds(database_pid or 0))
            run = run_wrk("gunicorn", base, script, options.duration, options.connections)
            after = (tree_cpu_seconds(server_pid), tree_cpu_seconds(database_pid or 0))
            spent = (after[0] - before[0], after[1] - before[1])
            run.notes.append(cpu_note(run, *spent, cores, options.connections))
            runs.append(run)
            if not options.no_restart:
                runs.append(
                    run_with_restart(
                        base,
                        script,
                        options.duration,
                        options.connections,
                        logs / "gunicorn.log",
                    )
                )
        if not options.no_peer:
            with waitress_server(url, logs / "waitress.log") as base:
                run_wrk("warm-up", base, script, options.warm_up, options.connections)
                runs.append(
                    run_wrk(
                        "waitress (before)", base, script, options.duration, options.connections
                    )
                )
    print(f"Load average at the end: {os.getloadavg()[0]:.1f}")
    print_runs(runs, options.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
