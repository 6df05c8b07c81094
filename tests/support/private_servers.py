"""A Redis and a PostgreSQL server of a test's own, on free ports, that the test may stop
and start again (a restart of the shared servers would disturb every other test). Made
from the machine's own binaries; a machine without them skips (fails under CI=true)."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from tests.support.services import unavailable


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until_answers(port: int, within: float = 20.0) -> None:
    for _ in range(int(within / 0.05)):
        with contextlib.suppress(OSError):
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing answers on port {port}")


class PrivateRedis:
    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = _port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._binary = binary
        self._workdir = workdir
        self._proc: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> None:
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self._proc = subprocess.Popen(
            [self._binary, "--port", str(self.port), *options, "--dir", str(self._workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def start(self) -> None:
        self._spawn()
        await _until_answers(self.port)

    async def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            await asyncio.to_thread(self._proc.wait, 10)


@contextlib.asynccontextmanager
async def private_redis(workdir: Path) -> AsyncIterator[PrivateRedis]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server", FileNotFoundError("not installed"))
        raise AssertionError("unreachable")
    server = PrivateRedis(binary, workdir)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class PrivatePostgres:
    """A cluster of its own, run as the `postgres` user (PostgreSQL refuses root)."""

    def __init__(self, bindir: Path, datadir: Path) -> None:
        self.port = _port()
        self.datadir = datadir
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._bindir = bindir
        self._datadir = datadir

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    async def init(self) -> None:
        self._datadir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self._datadir.parent, "postgres", "postgres")
            shutil.chown(self._datadir, "postgres", "postgres")
        initdb = str(self._bindir / "initdb")
        args = ["-D", str(self._datadir), "-A", "trust", "-U", "postgres", "--no-sync"]
        await asyncio.to_thread(self._as_postgres, initdb, *args)

    async def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._datadir} -F"
        pg_ctl = str(self._bindir / "pg_ctl")
        log = str(self._datadir / "server.log")
        await asyncio.to_thread(
            self._as_postgres,
            pg_ctl,
            "-D",
            str(self._datadir),
            "-o",
            options,
            "-l",
            log,
            "-w",
            "start",
        )
        await _until_answers(self.port)

    async def stop(self) -> None:
        pg_ctl = str(self._bindir / "pg_ctl")
        with contextlib.suppress(subprocess.CalledProcessError):
            await asyncio.to_thread(
                self._as_postgres,
                pg_ctl,
                "-D",
                str(self._datadir),
                "-m",
                "immediate",
                "-w",
                "stop",
            )


@contextlib.asynccontextmanager
async def private_postgres() -> AsyncIterator[PrivatePostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("PostgreSQL's initdb", FileNotFoundError("not installed"))
        raise AssertionError("unreachable")
    # not under pytest's tmp_path: the postgres user could not reach into it
    workdir = Path(tempfile.mkdtemp(prefix="storefront-pg-"))
    try:
        server = PrivatePostgres(Path(found[-1]).parent, workdir / "pgdata")
        await server.init()
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
