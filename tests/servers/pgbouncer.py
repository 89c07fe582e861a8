"""A throwaway PgBouncer in transaction-pooling mode in front of a PostgreSQL server, for tests.

`Bouncer(server_url)` writes a config into a temp dir (every database of the server, trust
authentication, `pool_mode = transaction`), starts Debian's `pgbouncer` on a free port and waits
until it accepts connections; `url_for(database)` is the SQLAlchemy URL through it. PgBouncer
refuses to run as root, so as root it runs as the same unprivileged user as the throwaway
PostgreSQL (`pg_cluster._unprivileged_user`). `stop()` (or leaving the `with` block) ends it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url

from .pg_cluster import _free_port, _unprivileged_user

PGBOUNCER_PATHS = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


def find_pgbouncer() -> str | None:
    for path in PGBOUNCER_PATHS:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("pgbouncer")


class BouncerStartError(RuntimeError):
    pass


class Bouncer:
    def __init__(self, server_url: str, *, pool_size: int = 20) -> None:
        binary = find_pgbouncer()
        if binary is None:
            raise BouncerStartError("pgbouncer not found; on Debian: apt-get install pgbouncer")
        server = make_url(server_url)
        self.user = server.username or "postgres"
        self.dir = Path(tempfile.mkdtemp(prefix="dbos-pgbouncer-"))
        run_as = _unprivileged_user() if os.geteuid() == 0 else None
        self.port = _free_port()
        ini = self.dir / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            f"* = host={server.host} port={server.port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 1000\n"
            "server_reset_query =\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\n"
            f"pidfile = {self.dir / 'pgbouncer.pid'}\n"
            + (f"user = {run_as.pw_name}\n" if run_as is not None else "")
        )
        (self.dir / "users.txt").write_text(f'"{self.user}" ""\n')
        if run_as is not None:
            for path in (self.dir, *self.dir.iterdir()):
                os.chown(path, run_as.pw_uid, run_as.pw_gid)
        self._proc = subprocess.Popen(
            [binary, str(ini)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BouncerStartError(f"pgbouncer exited:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise BouncerStartError(f"pgbouncer did not start listening:\n{self.log_tail()}")

    def log_tail(self, n: int = 30) -> str:
        try:
            lines = (self.dir / "pgbouncer.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no pgbouncer log)"
        return "\n".join(lines[-n:])

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Bouncer:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()


if __name__ == "__main__":
    import sys

    bouncer = Bouncer(sys.argv[1])
    print(bouncer.url_for("postgres"), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        bouncer.stop()
