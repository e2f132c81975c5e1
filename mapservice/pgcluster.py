"""A private PostgreSQL/PostGIS cluster that the service starts itself.

The cluster listens on a Unix socket only (no TCP port), with ``trust``
authentication, so nothing outside this machine can reach it and only
processes that can enter the socket folder can connect.

PostgreSQL refuses to run as root. When we are root, the cluster runs as the
unprivileged ``postgres`` account (created by Debian's package) through
``runuser``; otherwise it runs as the current user. Its folder is
``<project>/instance/postgres`` when that account can reach it, else a folder
under ``/var/tmp`` keyed by the project path (a checkout under a root-only home
is not reachable by ``postgres``).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Unix socket paths are limited to 107 bytes; leave room for ".s.PGSQL.5432".
_MAX_SOCKET_DIR_LEN = 90


class ClusterError(RuntimeError):
    """The private cluster could not be set up or started."""


def installed_major_versions() -> list[int]:
    """PostgreSQL server major versions installed the Debian way, newest first."""
    base = Path("/usr/lib/postgresql")
    versions = [
        int(p.name)
        for p in base.glob("*")
        if p.name.isdigit() and (p / "bin" / "postgres").exists()
    ]
    return sorted(versions, reverse=True)


def postgis_available(major: int) -> bool:
    """Whether the PostGIS extension is installed for that server version."""
    return any(Path(f"/usr/share/postgresql/{major}/extension").glob("postgis.control"))


def _bin_dir() -> Path:
    override = os.environ.get("MAPSERVICE_PG_BINDIR")
    if override:
        return Path(override)
    for major in installed_major_versions():
        if postgis_available(major):
            return Path(f"/usr/lib/postgresql/{major}/bin")
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise ClusterError(
        "No PostgreSQL server with PostGIS found. Run `./dev setup` as root, or install "
        "postgresql and postgresql-<major>-postgis-3 yourself."
    )


def _service_account() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(os.environ.get("MAPSERVICE_PG_USER", "postgres"))
    except KeyError as exc:
        raise ClusterError(
            "Running as root, but there is no unprivileged 'postgres' account to run the "
            "cluster (PostgreSQL refuses to run as root). Install postgresql first."
        ) from exc


def _reachable_by(account: pwd.struct_passwd, folder: Path) -> bool:
    """Whether ``account`` may enter every ancestor of ``folder``."""
    if account.pw_uid == os.geteuid():
        return True
    for ancestor in [folder, *folder.parents]:
        if not ancestor.exists():
            continue
        st = ancestor.stat()
        if st.st_uid == account.pw_uid:
            mode_bit = 0o100
        elif st.st_gid == account.pw_gid or st.st_gid in os.getgrouplist(
            account.pw_name, account.pw_gid
        ):
            mode_bit = 0o010
        else:
            mode_bit = 0o001
        if not st.st_mode & mode_bit:
            return False
    return True


def default_cluster_dir(project_root: Path = PROJECT_ROOT) -> Path:
    """Where the private cluster lives (see the module docstring)."""
    override = os.environ.get("MAPSERVICE_PG_DIR")
    if override:
        return Path(override)
    account = _service_account()
    candidate = project_root / "instance" / "postgres"
    if _reachable_by(account, project_root) and len(str(candidate / "run")) <= _MAX_SOCKET_DIR_LEN:
        return candidate
    digest = hashlib.sha1(str(project_root).encode(), usedforsecurity=False).hexdigest()[:12]
    return Path("/var/tmp") / f"mapservice-{digest}"  # noqa: S108 (0700, owned by the account)


@dataclass
class LocalCluster:
    """A PostgreSQL cluster in ``root`` with its socket in ``root/run``."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str) -> str:
        """SQLAlchemy URL for ``database`` on this cluster."""
        account = _service_account()
        return f"postgresql+psycopg://{account.pw_name}@/{database}?host={self.socket_dir}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        account = _service_account()
        command = [str(_bin_dir() / args[0]), *args[1:]]
        if account.pw_uid != os.geteuid():
            command = ["runuser", "-u", account.pw_name, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise ClusterError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}"
            )
        return result

    def _prepare_folders(self) -> None:
        account = _service_account()
        for folder in (self.root, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if account.pw_uid != os.geteuid():
                os.chown(folder, account.pw_uid, account.pw_gid)
            os.chmod(folder, 0o700)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster unless it exists."""
        if self.initialised():
            version = (self.data_dir / "PG_VERSION").read_text().strip()
            expected = re.search(r"/(\d+)/bin$", str(_bin_dir()))
            if expected and expected.group(1) != version:
                raise ClusterError(
                    f"The cluster in {self.data_dir} is PostgreSQL {version}, but the server "
                    f"found is {expected.group(1)}. Remove {self.root} to start afresh."
                )
            return
        self._prepare_folders()
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        )
        settings = (
            "\n# mapservice: private cluster, Unix socket only\n"
            "listen_addresses = ''\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "fsync = off\n"  # a rebuildable local cache of public data; speed beats durability
            "synchronous_commit = off\n"
            "full_page_writes = off\n"
            "shared_buffers = 256MB\n"
            "max_connections = 100\n"  # workers x (pool + overflow) x 2 engines on 4+ cores
        )
        conf = self.data_dir / "postgresql.conf"
        # initdb created the file as the service account; append through it.
        if _service_account().pw_uid != os.geteuid():
            subprocess.run(
                ["runuser", "-u", _service_account().pw_name, "--", "tee", "-a", str(conf)],
                input=settings,
                text=True,
                capture_output=True,
                check=True,
            )
        else:
            with conf.open("a") as handle:
                handle.write(settings)

    def running(self) -> bool:
        if not self.initialised():
            return False
        return (
            self._run("pg_ctl", "status", "--pgdata", str(self.data_dir), check=False).returncode
            == 0
        )

    def start(self) -> None:
        """Initialise if needed and start; idempotent."""
        self.init()
        self._prepare_folders()
        if self.running():
            return
        self._run(
            "pg_ctl",
            "start",
            "--wait",
            "--timeout=60",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
        )
        deadline = time.monotonic() + 30
        while not (self.socket_dir / ".s.PGSQL.5432").exists():
            if time.monotonic() > deadline:
                raise ClusterError(f"The cluster did not open its socket; see {self.log_file}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "stop", "--wait", "--mode=fast", "--pgdata", str(self.data_dir))

    def restart(self) -> None:
        """Restart fast (open connections are cut), as an operator's ``pg_ctl restart``."""
        self._run(
            "pg_ctl",
            "restart",
            "--wait",
            "--timeout=60",
            "--mode=fast",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
        )

    def ensure_database(self, name: str, *, recreate: bool = False) -> str:
        """Create ``name`` (with PostGIS) if missing and return its URL."""
        with psycopg.connect(
            dbname="postgres",
            user=_service_account().pw_name,
            host=str(self.socket_dir),
            autocommit=True,
        ) as conn:
            if recreate:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def local_cluster() -> LocalCluster:
    """The project's private cluster (not started)."""
    return LocalCluster(default_cluster_dir())
