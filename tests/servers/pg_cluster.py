"""Throwaway PostgreSQL clusters for tests and benchmarks.

Stdlib only, so that any script can use it: the tests (``tests/`` is on ``sys.path``) and a
script that puts ``tests/`` there import it as::

    from servers.pg_cluster import ThrowawayCluster

    with ThrowawayCluster() as cluster:
        print(cluster.url)  # postgresql+psycopg://dbos@127.0.0.1:PORT/postgres

or, by hand, ``python tests/servers/pg_cluster.py`` prints a URL and keeps the server up until
Ctrl-C / SIGTERM.

How it runs:

* The server binaries are the newest ``/usr/lib/postgresql/<N>/bin`` (or ``$DBOS_PG_BINDIR``;
  otherwise ``initdb`` on ``PATH``).
* A temp dir ``/tmp/dbos-pg-XXXX`` holds the data dir (``data/``), the unix socket and the
  server log (``postgres.log``).
* initdb refuses to run as root. When the current process is root, the temp dir is chowned to an
  unprivileged OS user (``$DBOS_PG_OS_USER``, else ``postgres``, else ``nobody``) and ``initdb``
  and ``postgres`` are started with ``subprocess.Popen(user=..., group=..., extra_groups=[])``,
  i.e. the child does setgroups/setgid/setuid between fork and exec. As a non-root user they are
  simply run directly.
* initdb: ``-U dbos --auth=trust --no-sync --locale=C -E UTF8``. ``--no-sync`` only skips the
  fsync of the freshly created files; the server itself runs with ``fsync=on`` unless
  ``fsync=False`` is passed explicitly.
* The server listens on 127.0.0.1 on a free port (retried if the port is taken between picking
  and binding), ``max_connections=300``, and its unix socket lives in the temp dir.
* ``postgres`` is a direct child of the Python process, in its own session (so a terminal Ctrl-C
  reaches only Python, which then stops it cleanly), with ``PR_SET_PDEATHSIG=SIGQUIT`` on Linux:
  if the Python process dies, even by SIGKILL, the kernel sends the postmaster SIGQUIT, which
  is PostgreSQL's immediate shutdown. ``stop()`` is idempotent and thread-safe and is also
  registered with ``atexit``. Temp dirs left behind by killed processes are removed the next
  time a cluster starts (see ``sweep_stale_dirs``).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType

__all__ = [
    "ClusterStartError",
    "ThrowawayCluster",
    "find_pg_bindir",
    "postgres_available",
    "sweep_stale_dirs",
]

SUPERUSER = "dbos"
DIR_PREFIX = "dbos-pg-"
_PR_SET_PDEATHSIG = 1


class ClusterStartError(RuntimeError):
    """The throwaway cluster could not be created or started."""


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,); 9.6 -> (9, 6)
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (0,)


def find_pg_bindir() -> Path | None:
    """Directory holding ``initdb``, ``postgres`` and ``pg_ctl``, newest version first."""
    required = ("initdb", "postgres", "pg_ctl")

    def complete(d: Path) -> bool:
        return all(os.access(d / name, os.X_OK) for name in required)

    override = os.environ.get("DBOS_PG_BINDIR")
    if override:
        return Path(override) if complete(Path(override)) else None
    candidates = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if complete(p)]
    if candidates:
        return max(candidates, key=_version_key)
    on_path = shutil.which("initdb")
    if on_path and complete(Path(on_path).parent):
        return Path(on_path).parent
    return None


def postgres_available() -> bool:
    return find_pg_bindir() is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_dirs(tmp_root: str | None = None, min_age_s: float = 60.0) -> list[Path]:
    """Remove ``dbos-pg-*`` temp dirs whose owner process and postmaster are both gone.

    Each dir records the pid of the Python process that created it in ``owner.pid``; the dir is
    stale when that process is dead and the postmaster recorded in ``data/postmaster.pid`` (if
    any) is dead too. Dirs younger than ``min_age_s`` without ``owner.pid`` are left alone (they
    may be being created right now).
    """
    root = Path(tmp_root or tempfile.gettempdir())
    removed: list[Path] = []
    for d in root.glob(DIR_PREFIX + "*"):
        try:
            if not d.is_dir():
                continue
            owner_file = d / "owner.pid"
            if owner_file.exists():
                if _pid_alive(int(owner_file.read_text().strip() or "0")):
                    continue
            elif time.time() - d.stat().st_mtime < min_age_s:
                continue
            pm_file = d / "data" / "postmaster.pid"
            if pm_file.exists():
                first = pm_file.read_text().splitlines()[:1]
                if first and first[0].strip().isdigit() and _pid_alive(int(first[0])):
                    continue
            shutil.rmtree(d, ignore_errors=True)
            if not d.exists():
                removed.append(d)
        except (OSError, ValueError):
            continue
    return removed


def _unprivileged_user() -> pwd.struct_passwd:
    names = [os.environ.get("DBOS_PG_OS_USER") or "", "postgres", "nobody"]
    for name in names:
        if not name:
            continue
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ClusterStartError(
        "running as root, but no unprivileged OS user to run PostgreSQL as "
        "(tried $DBOS_PG_OS_USER, 'postgres', 'nobody')"
    )


def _set_pdeathsig() -> None:
    """preexec_fn: have the kernel send SIGQUIT to the child when its parent dies.

    Runs after subprocess's setuid (the setting would be cleared by a later credential
    change), right before exec.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT, 0, 0, 0)


class ThrowawayCluster:
    """A private PostgreSQL server in a temp dir; see the module docstring.

    ``start()`` is called by the constructor unless ``start=False``. ``stop()`` (or leaving the
    ``with`` block) shuts the server down and deletes the temp dir.
    """

    def __init__(
        self,
        *,
        fsync: bool = True,
        max_connections: int = 300,
        bindir: Path | str | None = None,
        settings: dict[str, str] | None = None,
        start: bool = True,
        ready_timeout_s: float = 60.0,
    ) -> None:
        found = Path(bindir) if bindir is not None else find_pg_bindir()
        if found is None:
            raise ClusterStartError(
                "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin, "
                "$DBOS_PG_BINDIR and PATH); on Debian: apt-get install postgresql"
            )
        self.bindir: Path = found
        self.fsync = fsync
        self.max_connections = max_connections
        self.settings: dict[str, str] = dict(settings or {})
        self.ready_timeout_s = ready_timeout_s
        self.host = "127.0.0.1"
        self.port: int = 0
        self.user = SUPERUSER
        self.base_dir: Path | None = None
        self.startup_seconds: float = 0.0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Path | None = None
        self._owner_pid = os.getpid()
        self._lock = threading.Lock()
        self._stopped = False
        self._run_as: pwd.struct_passwd | None = _unprivileged_user() if os.geteuid() == 0 else None
        if start:
            self.start()

    # ----------------------------------------------------------------- properties
    @property
    def data_dir(self) -> Path:
        assert self.base_dir is not None, "cluster not started"
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.base_dir is not None, "cluster not started"
        return self.base_dir

    @property
    def log_file(self) -> Path:
        assert self._log_file is not None, "cluster not started"
        return self._log_file

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database."""
        return self.url_for("postgres")

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string (for ``psycopg.connect``)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={database}"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ----------------------------------------------------------------- lifecycle
    def _uid(self) -> int | None:
        return self._run_as.pw_uid if self._run_as is not None else None

    def _gid(self) -> int | None:
        return self._run_as.pw_gid if self._run_as is not None else None

    def _extra_groups(self) -> list[int] | None:
        # Drop root's supplementary groups; None = leave them alone (not root).
        return [] if self._run_as is not None else None

    def _log_tail(self, n: int = 30) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server log)"
        return "\n".join(lines[-n:])

    def start(self) -> None:
        with self._lock:
            if self._proc is not None:
                raise RuntimeError("cluster already started")
            t0 = time.monotonic()
            sweep_stale_dirs()
            self.base_dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
            (self.base_dir / "owner.pid").write_text(f"{os.getpid()}\n")
            self._log_file = self.base_dir / "postgres.log"
            if self._run_as is not None:
                os.chown(self.base_dir, self._run_as.pw_uid, self._run_as.pw_gid)
            os.chmod(self.base_dir, 0o700)
            atexit.register(self._atexit_stop)
            try:
                self._initdb()
                self._start_server()
            except BaseException:
                self._stop_locked(mode="immediate")
                raise
            self.startup_seconds = time.monotonic() - t0

    def _initdb(self) -> None:
        cmd = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            self.user,
            "--auth=trust",
            "--no-sync",
            "--no-instructions",
            "--encoding=UTF8",
            "--locale=C",
        ]
        env = dict(os.environ, LC_ALL="C", LANG="C")
        result = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
            cwd=self.base_dir,
            user=self._uid(),
            group=self._gid(),
            extra_groups=self._extra_groups(),
        )
        if result.returncode != 0:
            raise ClusterStartError(
                f"initdb failed (exit {result.returncode}):\n"
                + result.stdout.decode(errors="replace")
            )

    def _server_cmd(self, port: int) -> list[str]:
        settings = {
            "listen_addresses": self.host,
            "port": str(port),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": str(self.max_connections),
            "fsync": "on" if self.fsync else "off",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        if not self.fsync:
            settings["full_page_writes"] = "off"
        settings.update(self.settings)
        cmd = [str(self.bindir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd

    def _start_server(self, attempts: int = 5) -> None:
        last_error = ""
        for _ in range(attempts):
            port = _free_port()
            log = open(self.log_file, "ab")  # handed to the child, closed here after the fork
            try:
                self._proc = subprocess.Popen(
                    self._server_cmd(port),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=_set_pdeathsig if sys.platform.startswith("linux") else None,
                    cwd=self.base_dir,
                    user=self._uid(),
                    group=self._gid(),
                    extra_groups=self._extra_groups(),
                )
            finally:
                log.close()
            self.port = port
            if self._wait_ready():
                return
            last_error = self._log_tail()
            self._kill_server()
            if "could not bind" not in last_error and "already in use" not in last_error:
                break
        raise ClusterStartError(f"postgres did not start; server log:\n{last_error}")

    def _start_on(self, port: int) -> None:
        log = open(self.log_file, "ab")
        try:
            self._proc = subprocess.Popen(
                self._server_cmd(port),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_set_pdeathsig if sys.platform.startswith("linux") else None,
                cwd=self.base_dir,
                user=self._uid(),
                group=self._gid(),
                extra_groups=self._extra_groups(),
            )
        finally:
            log.close()
        if not self._wait_ready():
            raise ClusterStartError(f"postgres did not restart; server log:\n{self._log_tail()}")

    def shut_down(self, mode: str = "fast") -> None:
        """Stop the server but keep its data, as ``pg_ctl stop -m fast|immediate`` does."""
        with self._lock:
            self._kill_server(mode=mode)

    def start_again(self) -> None:
        """Start a server stopped by ``shut_down`` again, on the same port (same URLs)."""
        with self._lock:
            self._start_on(self.port)

    def restart(self, mode: str = "fast", down_for_s: float = 0.0) -> None:
        """``pg_ctl restart -m fast|immediate``: the URL stays valid, every connection drops."""
        self.shut_down(mode)
        time.sleep(down_for_s)
        self.start_again()

    def _wait_ready(self) -> bool:
        """Poll with ``pg_isready`` until the server accepts connections."""
        deadline = time.monotonic() + self.ready_timeout_s
        isready = str(self.bindir / "pg_isready")
        have_isready = os.access(isready, os.X_OK)
        delay = 0.02
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                return False
            if have_isready:
                ok = (
                    subprocess.run(
                        [isready, "-q", "-h", self.host, "-p", str(self.port), "-U", self.user],
                        stdin=subprocess.DEVNULL,
                        check=False,
                    ).returncode
                    == 0
                )
            else:  # fall back to "the TCP port is open"
                try:
                    socket.create_connection((self.host, self.port), timeout=1).close()
                    ok = True
                except OSError:
                    ok = False
            if ok:
                return True
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        return False

    def _kill_server(self, mode: str = "fast", timeout_s: float = 15.0) -> None:
        """Shut the postmaster down: ``fast`` (SIGINT) or ``immediate`` (SIGQUIT).

        These are the signals ``pg_ctl stop -m fast|immediate`` sends; signalling directly works
        as root too (pg_ctl refuses to run as root). Escalates to SIGQUIT then SIGKILL.
        """
        proc = self._proc
        if proc is None:
            return
        signals = [signal.SIGINT, signal.SIGQUIT] if mode == "fast" else [signal.SIGQUIT]
        for sig in [*signals, signal.SIGKILL]:
            if proc.poll() is not None:
                break
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=timeout_s if sig != signal.SIGKILL else None)
                break
            except subprocess.TimeoutExpired:
                continue
        self._proc = None

    def _stop_locked(self, mode: str) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            self._kill_server(mode=mode)
        finally:
            if self.base_dir is not None:
                shutil.rmtree(self.base_dir, ignore_errors=True)
            try:
                atexit.unregister(self._atexit_stop)
            except Exception:  # pragma: no cover - interpreter shutting down
                pass

    def stop(self, mode: str = "fast") -> None:
        """Stop the server and delete the temp dir. Idempotent; ``mode``: fast | immediate."""
        if mode not in ("fast", "immediate"):
            raise ValueError(f"mode must be 'fast' or 'immediate', not {mode!r}")
        with self._lock:
            self._stop_locked(mode)

    def _atexit_stop(self) -> None:
        # A forked child exiting through atexit must not take the parent's server down.
        if os.getpid() == self._owner_pid:
            self.stop(mode="immediate")

    def __enter__(self) -> ThrowawayCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<ThrowawayCluster {self.url if self.port else '-'} {state} dir={self.base_dir}>"


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--fsync-off", action="store_true", help="run with fsync=off (not durable; faster)"
    )
    parser.add_argument("--max-connections", type=int, default=300)
    args = parser.parse_args(argv)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGHUP, on_sigterm)
    try:
        cluster = ThrowawayCluster(fsync=not args.fsync_off, max_connections=args.max_connections)
    except ClusterStartError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    try:
        print(cluster.url, flush=True)
        print(
            f"# started in {cluster.startup_seconds:.2f}s; data dir {cluster.data_dir}; "
            f"log {cluster.log_file}\n"
            f"# export DBOS_TEST_POSTGRES_URL={cluster.url}\n"
            "# Ctrl-C or SIGTERM stops the server and deletes the data dir",
            file=sys.stderr,
            flush=True,
        )
        while cluster.is_running():
            time.sleep(0.5)
        print("postgres exited on its own; server log:\n" + cluster._log_tail(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
