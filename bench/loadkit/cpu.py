"""CPU time a process tree spent (Linux ``/proc``): what a run cost the server and the
database, a figure that depends far less on other work on a shared machine than wall-clock
latency does."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system time of ``pid`` and every living descendant."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:  # gone meanwhile
        return 0.0
    # After the name: state is field 3, utime and stime are fields 14 and 15 (man 5 proc).
    own = (int(fields[11]) + int(fields[12])) / TICKS
    return own + sum(tree_cpu_seconds(child) for child in _children(pid))


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
