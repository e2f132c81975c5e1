"""The servers the load benchmark measures: ``mapservice serve`` as ``./dev run`` starts it
(gunicorn), and the single-process waitress server the service used before, as the peer."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DATABASE = "mapservice_bench_load"


def bench_cluster_dir() -> Path:
    """A PostgreSQL cluster of the benchmark's own: restarting it disturbs nothing else."""
    digest = hashlib.sha1(str(ROOT).encode(), usedforsecurity=False).hexdigest()[:12]
    return Path("/var/tmp") / f"mapservice-load-{digest}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base}/api/ready", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError("server did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_env(url: str | None = None) -> dict[str, str]:
    # As behind the reverse proxy of a real deployment (README: "Behind a reverse proxy"):
    # one trusted hop, so each simulated family is a client of its own for the rate limits.
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        MAPSERVICE_DATABASE_NAME=DATABASE,
        MAPSERVICE_TRUSTED_PROXIES="1",
    )
    if url:
        env["MAPSERVICE_DATABASE_URL"] = url
    return env


@contextlib.contextmanager
def gunicorn_server(log: Path) -> Iterator[tuple[str, int]]:
    """``mapservice serve`` as ``./dev run`` starts it, on a free port: its address and the
    gunicorn master's process id."""
    port = free_port()
    command = [sys.executable, "-m", "mapservice.console", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=server_env(), stdout=out, stderr=out, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        yield base, process.pid
    finally:
        stop(process)


PEER = """
import sys
from waitress import serve
from mapservice import create_app
serve(create_app({"DATABASE_URL": sys.argv[1]}), host="127.0.0.1", port=int(sys.argv[2]),
      threads=8, ident="mapservice", _quiet=True)
"""


@contextlib.contextmanager
def waitress_server(url: str, log: Path) -> Iterator[str]:
    """The service as it was served before: one process, waitress, 8 threads."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", PEER, url, str(port)],
            env=server_env(),
            stdout=out,
            stderr=out,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        yield base
    finally:
        stop(process)
