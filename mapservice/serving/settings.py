"""How many processes and threads serve requests, and where: computed from the app's settings
(``MAPSERVICE_WORKERS``, ``MAPSERVICE_THREADS``, ``MAPSERVICE_BIND``, ``MAPSERVICE_TIMEOUT``)
and the cores this process may run on. Free of Flask and of gunicorn.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Method, path (never the query string: it holds the family's place and the child's age),
# status, bytes sent and duration. No client address either: an IP address is personal data.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def available_cores() -> int:
    """The cores this process may use (its CPU affinity, e.g. a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers(cores: int) -> int:
    """One process per core plus one: a request spends part of its time waiting for the
    database (on the same machine), so one more process than cores keeps them busy; the
    threads of each process cover the shorter waits. Measured with ``bench/load.py``."""
    return cores + 1


@dataclass(frozen=True)
class ServerSettings:
    bind: str
    workers: int
    threads: int
    timeout: int
    graceful_timeout: int
    keepalive: int

    def gunicorn_options(self) -> dict[str, Any]:
        return {
            "bind": self.bind,
            "workers": self.workers,
            "threads": self.threads,
            "worker_class": "gthread",
            "timeout": self.timeout,
            "graceful_timeout": self.graceful_timeout,
            "keepalive": self.keepalive,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            # Each worker builds its own app and database engines after the fork: no
            # connection is ever shared between processes.
            "preload_app": False,
            # Behind a reverse proxy on this machine: trust its X-Forwarded-* headers.
            "forwarded_allow_ips": "127.0.0.1,::1",
            # Newer gunicorns open a management socket in the home folder; two servers on one
            # machine would fight over it, and nothing here uses it.
            "control_socket_disable": True,
        }


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key)
    if value in (None, "", "auto"):
        return default
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"MAPSERVICE_{key} must be a whole number, not {value!r}") from exc
    if number < 1:
        raise ValueError(f"MAPSERVICE_{key} must be at least 1, not {number}")
    return number


def server_settings(
    config: Mapping[str, Any],
    *,
    cores: int | None = None,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    threads: int | None = None,
) -> ServerSettings:
    """Settings from the app's configuration; explicit arguments (command line) win.

    ``BIND`` is ``host:port`` (or ``unix:/path``); ``--host``/``--port`` replace its parts.
    """
    cores = cores or available_cores()
    bind = str(config.get("BIND") or "127.0.0.1:5000")
    if host is not None or port is not None:
        old_host, _, old_port = bind.rpartition(":")
        bind = f"{host or old_host or '127.0.0.1'}:{port or old_port or 5000}"
    return ServerSettings(
        bind=bind,
        workers=workers or _positive_int(config, "WORKERS", default_workers(cores)),
        threads=threads or _positive_int(config, "THREADS", 4),
        timeout=_positive_int(config, "TIMEOUT", 30),
        graceful_timeout=_positive_int(config, "GRACEFUL_TIMEOUT", 20),
        keepalive=_positive_int(config, "KEEPALIVE", 5),
    )


def connections_needed(settings: ServerSettings, per_engine: int, engines: int) -> int:
    """The most database connections the workers open together: each process has
    ``engines`` pools of at most ``per_engine`` connections (pool size + overflow)."""
    return settings.workers * engines * per_engine
