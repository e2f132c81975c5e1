"""A database restart in the middle of a run (``pg_ctl restart -m fast`` of the benchmark's
cluster), and a probe that measures when the service answers again."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from mapservice.pgcluster import local_cluster

from .wrk import Run, run_wrk

# What the probe asks in turn: readiness (SELECT 1 on the app's engine) and a reach query
# (the lean read engine and the raw psycopg path), so both pools must have recovered.
PROBES = (
    "/api/ready",
    "/api/reachable?lat=51.5226&lon=7.4722&minutes=10&age_months=30",
)


def restart_database(delay: float, marks: dict[str, float]) -> None:
    time.sleep(delay)
    cluster = local_cluster()
    marks["restart_begun"] = time.monotonic()
    marks["restart_begun_wall"] = time.time()
    cluster._run(  # the bench drives the embedded cluster like an operator
        "pg_ctl",
        "restart",
        "--wait",
        "--mode=fast",
        "--pgdata",
        str(cluster.data_dir),
        "--log",
        str(cluster.log_file),
    )
    marks["restart_done"] = time.monotonic()
    marks["restart_done_wall"] = time.time()


def probe(base: str, until: float, seen: list[tuple[float, bool, int]]) -> None:
    """Ask every 50 ms; a failure is any status but 200 or a refused/broken connection
    (status 0). A slow answer (the machine is loaded) is not one: the probe waits up to 10 s
    and leaves out an answer that took longer."""
    turn = 0
    while time.monotonic() < until:
        started = time.monotonic()
        status = 0
        try:
            with urllib.request.urlopen(base + PROBES[turn % len(PROBES)], timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except TimeoutError:
            status = -1  # only slow: the machine is loaded (see the run's timeouts)
        except urllib.error.URLError as exc:
            status = -1 if isinstance(exc.reason, TimeoutError) else 0
        except OSError:
            status = 0  # refused or cut
        if status != -1:
            seen.append((started, status == 200, status))
        turn += 1
        time.sleep(0.05)


def recovered_after(seen: list[tuple[float, bool, int]], begun: float) -> float | None:
    """Seconds from ``begun`` to the first success after which nothing failed for 2 s."""
    failures = [t for t, ok, _ in seen if not ok and t >= begun]
    for t, ok, _ in seen:
        if ok and t >= begun and not any(t < f <= t + 2 for f in failures):
            return t - begun
    return None


# gunicorn's access log (mapservice.serving.settings.ACCESS_LOG_FORMAT): the time the answer
# was logged (1 s resolution), the path and the status.
_ACCESS = re.compile(r'^\[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" (?P<status>\d{3}) ')


def answers_logged(log: Path, since: float) -> list[tuple[float, int]]:
    """(time, status) of every answer gunicorn logged from ``since`` (wall clock) on."""
    found: list[tuple[float, int]] = []
    for line in log.read_text(errors="replace").splitlines():
        match = _ACCESS.match(line)
        if not match:
            continue
        when = dt.datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z").timestamp()
        if when >= int(since):
            found.append((when, int(match["status"])))
    return found


def log_note(log: Path, marks: dict[str, float]) -> str:
    """When the 503s were answered, from the server's own log (whole seconds)."""
    begun, done = marks["restart_begun_wall"], marks["restart_done_wall"]
    answers = answers_logged(log, begun)
    unavailable = [when for when, status in answers if status == 503]
    others = sorted({status for _, status in answers if status >= 400 and status != 503})
    if not unavailable:
        return f"server log: no 503; other error statuses {others or 'none'}"
    last = max(unavailable) + 1  # the log's second ends a second later
    return (
        f"server log: {len(unavailable)} answers 503, the last within {last - done:.0f} s "
        f"after the database was back (whole seconds); other error statuses {others or 'none'}"
    )


def run_with_restart(
    base: str, script: Path, seconds: int, connections: int, log: Path | None = None
) -> Run:
    marks: dict[str, float] = {}
    seen: list[tuple[float, bool, int]] = []
    until = time.monotonic() + seconds + 1
    helpers = [
        threading.Thread(target=restart_database, args=(seconds / 2, marks)),
        threading.Thread(target=probe, args=(base, until, seen)),
    ]
    for helper in helpers:
        helper.start()
    run = run_wrk("gunicorn, database restarted halfway", base, script, seconds, connections)
    for helper in helpers:
        helper.join()
    begun = marks.get("restart_begun")
    if begun is None:
        run.notes.append("the restart did not happen")
        return run
    done = marks.get("restart_done", begun)
    failed = [(t, status) for t, ok, status in seen if not ok and t >= begun]
    back = recovered_after(seen, begun)
    if not failed:
        recovery = "no probe failed"
    elif back is None:
        recovery = "the probes did not recover within the run"
    else:
        recovery = (
            f"every probe answers again {back:.2f} s after the restart began "
            f"({max(0.0, back - (done - begun)):.2f} s after the database was back)"
        )
    run.notes.append(f"pg_ctl restart took {done - begun:.2f} s; {recovery}")
    codes = sorted({status for _, status in failed})
    run.notes.append(
        f"probe requests failing after the restart began: {len(failed)} (statuses {codes})"
    )
    if log is not None and "restart_done_wall" in marks:
        run.notes.append(log_note(log, marks))
    return run
