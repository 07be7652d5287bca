"""Real throwaway servers (Redis, InfluxDB, Celery, Gunicorn) for tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import redis
import requests

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_LOCAL_BIN = PROJECT_ROOT / ".venv" / "bin"
VENV_BIN = _LOCAL_BIN if _LOCAL_BIN.is_dir() else Path(sys.prefix) / "bin"
STOP_TIMEOUT = 10.0
_BIND_ERRORS = ("address already in use", "connection in use")


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that was free when asked."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.RequestException:
        return None


def redis_answers(port: int) -> bool:
    """Tell whether a Redis on this loopback port answers PING."""
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Tell whether the child exited, without reaping it, so its PID and group id stay ours."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


class ManagedProcess:
    """A server process in its own session, logging to a file, stopped by PID."""

    ready_timeout: float = 10.0
    port: int | None = None

    def __init__(self, log_path: Path, cwd: Path | None = None) -> None:
        self.log_path = Path(log_path)
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0
        self._ever_ready = False

    def command(self) -> list[str]:
        """Return the argv of the server."""
        raise NotImplementedError

    def extra_env(self) -> dict[str, str]:
        """Return the variables set over os.environ for the child."""
        return {}

    def is_ready(self) -> bool:
        """Tell whether the started server accepts work."""
        raise NotImplementedError

    def pick_ports(self) -> bool:
        """Choose new ports after a bind conflict; False if the server listens on none."""
        if self.port is None:
            return False
        self.port = free_port()
        return True

    @property
    def pid(self) -> int | None:
        """PID of the started process, or None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """Tell whether the started process is still alive."""
        return self._proc is not None and not _has_exited(self._proc)

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of the log file."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def new_output(self) -> str:
        """Return what the log gained since the latest start."""
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    def _failure(self, reason: str) -> RuntimeError:
        return RuntimeError(f"{type(self).__name__} {reason}; "
                            f"last lines of {self.log_path}:\n{self.log_tail()}")

    def start(self) -> Self:
        """Start the process and wait until ready; raise RuntimeError with the log tail if not."""
        if self._proc is not None:
            return self
        attempts = 1 if self._ever_ready else 3
        for attempt in range(1, attempts + 1):
            try:
                return self._launch()
            except RuntimeError:
                conflict = any(e in self.new_output().lower() for e in _BIND_ERRORS)
                if attempt == attempts or not conflict or not self.pick_ports():
                    raise
        raise AssertionError("unreachable")

    def _launch(self) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.extra_env()}
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            try:
                self._proc = subprocess.Popen(
                    self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=self.cwd, env=env, start_new_session=True)
            except OSError as exc:
                raise self._failure(f"could not be started: {exc}") from exc
        proc = self._proc
        deadline = time.monotonic() + self.ready_timeout
        while not self.is_ready():
            if _has_exited(proc):
                self._reap(proc)
                raise self._failure(f"exited with code {proc.returncode} before it was ready")
            if time.monotonic() > deadline:
                self.stop()
                raise self._failure(f"was not ready within {self.ready_timeout:g} s")
            time.sleep(0.05)
        self._ever_ready = True
        return self

    def _reap(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        self._proc = None

    def stop(self) -> None:
        """Send SIGTERM, wait up to 10 s, then SIGKILL the process group; always reap."""
        proc = self._proc
        if proc is None:
            return
        try:
            if not _has_exited(proc):
                os.kill(proc.pid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_TIMEOUT
                while not _has_exited(proc) and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            self._reap(proc)

    def kill(self) -> None:
        """SIGKILL the whole process group at once and reap it, as a crash would."""
        if self._proc is not None:
            self._reap(self._proc)

    def restart(self) -> Self:
        """Stop, then start again with the same ports and data."""
        self.stop()
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class RedisServer(ManagedProcess):
    """redis-server on a free loopback port, with its AOF in data_dir, fsynced before each
    answer (as the Procfile runs it: a task the web queued survives a crash)."""

    port: int

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(self.data_dir / "redis.log")
        self.port = free_port()

    @property
    def url(self) -> str:
        """Redis URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """Return the redis-server argv."""
        return ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", str(self.data_dir), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--daemonize", "no"]

    def is_ready(self) -> bool:
        """Tell whether PING answers (Redis refuses it while it loads the AOF)."""
        return redis_answers(self.port)


class InfluxServer(ManagedProcess):
    """influxd 1.x configured through environment variables only, with data in data_dir."""

    ready_timeout = 20.0

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(self.data_dir / "influxd.log")
        self.http_port = self.rpc_port = 0
        self.pick_ports()

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.http_port}"

    def pick_ports(self) -> bool:
        """Choose new, distinct HTTP and RPC ports (never 8088)."""
        self.http_port = self.rpc_port = free_port()
        while self.rpc_port in (self.http_port, 8088):
            self.rpc_port = free_port()
        return True

    def command(self) -> list[str]:
        """Return the influxd argv."""
        return ["influxd"]

    def extra_env(self) -> dict[str, str]:
        """Return the INFLUXDB_* configuration."""
        return {
            "INFLUXDB_REPORTING_DISABLED": "true",
            "INFLUXDB_BIND_ADDRESS": f"127.0.0.1:{self.rpc_port}",
            "INFLUXDB_HTTP_BIND_ADDRESS": f"127.0.0.1:{self.http_port}",
            "INFLUXDB_META_DIR": str(self.data_dir / "meta"),
            "INFLUXDB_DATA_DIR": str(self.data_dir / "data"),
            "INFLUXDB_DATA_WAL_DIR": str(self.data_dir / "wal"),
            "INFLUXDB_HTTP_LOG_ENABLED": "false",
            "INFLUXDB_DATA_QUERY_LOG_ENABLED": "false",
            "INFLUXDB_MONITOR_STORE_ENABLED": "false",
        }

    def is_ready(self) -> bool:
        """Tell whether GET /ping answers 204."""
        return _http_status(f"{self.url}/ping") == 204


class _ProjectProcess(ManagedProcess):
    """A venv program run from the project root (or cwd) with env merged over os.environ."""

    ready_timeout = 30.0

    def __init__(self, env: dict[str, str], log_path: Path, cwd: Path | None) -> None:
        super().__init__(log_path, Path(cwd or PROJECT_ROOT).resolve())
        self.env = dict(env)

    def extra_env(self) -> dict[str, str]:
        """Return the given env, with the working folder first on PYTHONPATH."""
        paths = [str(self.cwd), self.env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))]
        return {"PYTHONUNBUFFERED": "1", **self.env,
                "PYTHONPATH": os.pathsep.join(filter(None, paths))}


class CeleryWorker(_ProjectProcess):
    """A prefork Celery worker of `app` (a module or package exposing a Celery app),
    consuming `queues` (the app's default queue if none)."""

    def __init__(self, env: dict[str, str], log_dir: Path, concurrency: int = 1,
                 app: str = "workers", cwd: Path | None = None, beat: bool = False,
                 queues: Sequence[str] = (), name: str = "worker") -> None:
        uniq = uuid.uuid4().hex[:10]
        super().__init__(env, Path(log_dir) / f"celery-{name}-{uniq}.log", cwd)
        self.app, self.concurrency, self.nodename = app, concurrency, f"{name}{uniq}@%h"
        self.queues = tuple(queues)
        self.beat_schedule = Path(log_dir) / f"beat-{uniq}" if beat else None

    def command(self) -> list[str]:
        """Return the celery worker argv (with an embedded beat if asked)."""
        beat = ["-B", "--schedule", str(self.beat_schedule)] if self.beat_schedule else []
        queues = ["-Q", ",".join(self.queues)] if self.queues else []
        return [str(VENV_BIN / "celery"), "-A", self.app, "worker", "--loglevel", "INFO",
                *queues, "--concurrency", str(self.concurrency), "--pool", "prefork",
                "--without-gossip", "--without-mingle", "-n", self.nodename, *beat]

    def is_ready(self) -> bool:
        """Tell whether the log of this start shows the worker's "ready." line."""
        return "ready." in self.new_output()


class GunicornServer(_ProjectProcess):
    """Gunicorn serving a WSGI app on a free loopback port."""

    port: int

    def __init__(self, env: dict[str, str], log_dir: Path, app: str = "harness.web.wsgi:app",
                 workers: int = 2, cwd: Path | None = None) -> None:
        log_path = Path(log_dir) / f"gunicorn-{uuid.uuid4().hex[:10]}.log"
        super().__init__(env, log_path, cwd)
        self.app, self.workers, self.port = app, workers, free_port()

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """Return the gunicorn argv."""
        return [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), self.app]

    def is_ready(self) -> bool:
        """Tell whether GET /healthz gets any HTTP answer."""
        return _http_status(f"{self.url}/healthz") is not None


class ProcfileProcess(_ProjectProcess):
    """One line of the project's Procfile, run exactly as written (`sh -c`, its `exec`
    making the shell's PID the server's), with the settings a user gives it in env."""

    READY = {"web": "Listening at", "worker": "ready.", "notify": "ready.",
             "beat": "beat: Starting"}

    def __init__(self, name: str, env: dict[str, str], log_dir: Path,
                 procfile: Path = PROJECT_ROOT / "Procfile") -> None:
        lines = dict(line.split(":", 1) for line in procfile.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))
        if name not in lines:
            raise KeyError(f"{procfile} has no {name!r} line")
        super().__init__(env, Path(log_dir) / f"{name}-{uuid.uuid4().hex[:10]}.log", None)
        self.name, self.line = name, lines[name].strip()
        self.port = free_port() if name == "web" else None

    @property
    def url(self) -> str:
        """Base URL of the web line."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """Return `sh -c LINE`."""
        return ["sh", "-c", self.line]

    def extra_env(self) -> dict[str, str]:
        """Return the settings, the venv's programs first on PATH and the web's PORT."""
        path = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])
        port = {"PORT": str(self.port)} if self.port else {}
        return {**super().extra_env(), "PATH": path, **port}

    def is_ready(self) -> bool:
        """Tell whether the log of this start shows the line's ready marker."""
        return self.READY.get(self.name, "") in self.new_output()
