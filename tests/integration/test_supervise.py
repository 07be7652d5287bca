"""bin/demo's runner: supervisord, configured from the Procfile, brings back each process
that dies (kill -9 of redis-server, the Celery worker and notify pool, influxd) and nothing
is lost."""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import signal
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions
from supervisor.xmlrpc import SupervisorTransport

from harness.testing.servers import (
    PROJECT_ROOT,
    VENV_BIN,
    InfluxServer,
    ManagedProcess,
    free_port,
    redis_answers,
)
from harness.tools import supervise
from tests.conftest import TOKENS, bearer, submission

RECOVERY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0


def wait_for(what: str, check: Callable[[], bool], timeout_s: float = RECOVERY_TIMEOUT_S) -> None:
    """Poll check until it holds; fail naming what did not happen."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:g} s")
        time.sleep(0.05)


class Supervisord(ManagedProcess):
    """supervisord running the project's Procfile as bin/demo does, with a .env of free
    loopback ports and its data, socket and logs under var_dir."""

    ready_timeout = 90.0

    def __init__(self, var_dir: Path, procfile: Path = PROJECT_ROOT / "Procfile") -> None:
        self.var_dir, self.procfile = var_dir.resolve(), procfile
        self.names = [process.name for process in supervise.read_procfile(procfile.read_text())]
        super().__init__(self.var_dir / "log" / "supervisord.log", PROJECT_ROOT)
        self.port, self.redis_port = free_port(), free_port()
        self.influx = InfluxServer(self.var_dir / "influxdb")  # its settings only: not started
        self.config = self.var_dir / "supervisord.conf"
        self.program_pids: set[int] = set()

    @property
    def url(self) -> str:
        """Base URL of the web process."""
        return f"http://127.0.0.1:{self.port}"

    def env_file(self) -> Path:
        """Write the .env that bin/demo would write, for this runner's ports and folders."""
        variables = {
            "PORT": str(self.port),
            "HARNESS_WEB_WORKERS": "1",
            "HARNESS_WORKER_CONCURRENCY": "1",
            "HARNESS_NOTIFY_CONCURRENCY": "1",
            "HARNESS_VAR_DIR": str(self.var_dir),
            "HARNESS_REDIS_PORT": str(self.redis_port),
            "HARNESS_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "HARNESS_INFLUXDB_URL": self.influx.url,
            "HARNESS_INFLUXDB_DATABASE": "harness",
            "HARNESS_METRICS_DIR": str(PROJECT_ROOT / "metrics"),
            "HARNESS_BLOB_DIR": str(self.var_dir / "blobs"),
            "HARNESS_PUBLIC_URL": self.url,
            "HARNESS_API_TOKENS": TOKENS,
            **self.influx.extra_env(),
        }
        path = self.var_dir / ".env"
        path.write_text("".join(f"{key}={value}\n" for key, value in variables.items()))
        return path

    def command(self) -> list[str]:
        """Write the configuration from the Procfile and .env; return the supervisord argv."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        status = supervise.main([
            "--procfile", str(self.procfile), "--env-file", str(self.env_file()),
            "--var-dir", str(self.var_dir), "--root", str(PROJECT_ROOT),
            "--output", str(self.config)])
        assert status == 0
        return [str(VENV_BIN / "supervisord"), "-c", str(self.config)]

    def extra_env(self) -> dict[str, str]:
        """The project's virtualenv first on PATH, as bin/demo sets it."""
        return {"PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])}

    def process_info(self, name: str) -> dict[str, Any]:
        """supervisord's state of a Procfile process, asked over its unix socket."""
        transport = SupervisorTransport(None, None, f"unix://{self.var_dir / 'supervisor.sock'}")
        with xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport) as proxy:
            return cast(dict[str, Any], proxy.supervisor.getProcessInfo(name))

    def program_pid(self, name: str) -> int:
        """PID of a Procfile process (0 while it is not running); remembered for the stop."""
        try:
            pid = int(self.process_info(name)["pid"])
        except (OSError, xmlrpc.client.Error):
            return 0
        if pid:
            self.program_pids.add(pid)
        return pid

    def healthy(self) -> bool:
        """Tell whether /healthz answers 200 (web, broker, store and a worker all answer)."""
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def is_ready(self) -> bool:
        """Tell whether every process runs and the whole system is healthy."""
        return all(self.program_pid(name) for name in self.names) and self.healthy()

    def stop(self) -> None:
        """SIGTERM supervisord, which stops every process; then SIGKILL, by PID, whatever of
        it or of the processes it started is still there."""
        for name in self.names:
            self.program_pid(name)
        if self.running and self.pid is not None:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while self.running and time.monotonic() < deadline:
                time.sleep(0.05)
        self.kill()
        for pid in self.program_pids:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)


class BareSupervisord(Supervisord):
    """supervisord running a Procfile of plain commands: ready when `steady` runs."""

    def is_ready(self) -> bool:
        """Tell whether the process named steady runs."""
        return bool(self.program_pid("steady"))


def alive(pid: int) -> bool:
    """Tell whether a process of that PID exists (and is no zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Supervisord]:
    """The whole system under supervisord, stopped by PID afterwards."""
    process = Supervisord(tmp_path / "var")
    try:
        yield process.start()
    finally:
        process.stop()


def post(runner: Supervisord, number: int) -> str:
    """Post build `number` (each at its own time, so each is its own point); return its
    status URL. A 503 while a server restarts is retried, as the CI client does."""
    body = submission(id=f"supervise-{number}", time=f"2026-11-20T03:{number:02d}:00Z")
    deadline = time.monotonic() + RECOVERY_TIMEOUT_S
    while True:
        response = requests.post(f"{runner.url}/api/v1/submissions", json=body,
                                 headers=bearer(), timeout=10)
        if response.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert response.status_code == 202, response.text
    return f"{runner.url}{response.json()['status_url']}"


def wait_stored(status_url: str) -> None:
    """Poll the submission's status until the worker has stored it."""
    states: list[str] = []

    def done() -> bool:
        states.append(requests.get(status_url, timeout=5).json()["state"])
        assert states[-1] != "failed", status_url
        return states[-1] == "done"

    wait_for(f"{status_url} done (last state {states[-1:]})", done)


def server_answers(runner: Supervisord, name: str) -> bool:
    """Tell whether the restarted process itself answers (PING, /ping, a Celery worker's
    answer through /healthz)."""
    if name == "redis":
        return redis_answers(runner.redis_port)
    if name == "influxdb":
        return runner.influx.is_ready()
    return True  # worker, notify: /healthz needs a live worker on each queue


def kill_and_wait(runner: Supervisord, name: str) -> tuple[float, float, float]:
    """kill -9 a Procfile process; wait for its new PID, its own answer and /healthz 200;
    return the seconds from the kill to each."""
    old_pid = runner.program_pid(name)
    started = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    marks = []
    wait_for(f"a new {name} process", lambda: runner.program_pid(name) not in (0, old_pid))
    marks.append(time.monotonic() - started)
    wait_for(f"{name} answering", lambda: server_answers(runner, name))
    marks.append(time.monotonic() - started)
    wait_for("/healthz 200", runner.healthy)
    marks.append(time.monotonic() - started)
    return marks[0], marks[1], marks[2]


@pytest.mark.timeout(300)
def test_each_killed_process_comes_back_and_nothing_is_lost(runner: Supervisord) -> None:
    recovery_s: dict[str, tuple[float, float, float]] = {}
    number = 0
    for name in ("redis", "worker", "notify", "influxdb"):
        number += 1
        wait_stored(post(runner, number))  # stored, so the killed process holds none of it

        recovery_s[name] = kill_and_wait(runner, name)

        number += 1
        wait_stored(post(runner, number))

    series = requests.get(f"{runner.url}/api/v1/metrics/validate_drp.PA1/series",
                          params={"dataset": "hsc_rc2", "filter": "r"}, timeout=10).json()
    builds = [point["build"]["id"] for item in series["series"] for point in item["points"]]
    assert sorted(builds) == [f"supervise-{n}" for n in range(1, number + 1)]
    assert "exited: redis (terminated by SIGKILL" in runner.log_path.read_text()
    print("seconds from kill -9 to a new PID, its answer, /healthz 200:",
          {name: [round(s, 2) for s in marks] for name, marks in recovery_s.items()})


def test_supervisord_reads_each_procfile_line_and_the_env_as_they_are(tmp_path: Path) -> None:
    lines = {"web": "exec serve --port ${PORT:-5000} -n w@%h",
             "redis": "mkdir -p x && exec redis-server --save '' --dir \"a b\""}
    procfile = tmp_path / "Procfile"
    procfile.write_text("# the system\n" + "".join(f"{k}: {v}\n" for k, v in lines.items()))
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=5000\nTOKENS=a:b:ingest+triage,c:d:admin\nPCT=100%\n")
    config = tmp_path / "var" / "supervisord.conf"
    assert supervise.main(["--procfile", str(procfile), "--env-file", str(env_file),
                           "--var-dir", str(tmp_path / "var"), "--root", str(tmp_path),
                           "--output", str(config)]) == 0

    options = ServerOptions()
    options.realize(args=["-c", str(config)])
    programs = {p.name: p for group in options.process_group_configs
                for p in group.process_configs}
    assert sorted(programs) == ["redis", "web"]
    for name, line in lines.items():
        program = programs[name]
        assert shlex.split(program.command) == ["/bin/sh", "-c", line]
        assert program.environment == {"PORT": "5000", "TOKENS": "a:b:ingest+triage,c:d:admin",
                                       "PCT": "100%"}
        assert program.autorestart is RestartUnconditionally
        assert program.startretries == supervise.START_RETRIES
        assert program.stdout_logfile == str(tmp_path / "var" / "log" / f"{name}.log")
        assert program.directory == str(tmp_path)
    assert programs["redis"].priority < programs["web"].priority


def test_a_process_that_keeps_failing_is_retried_with_growing_waits_and_logged(
    tmp_path: Path,
) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("steady: exec sleep 600\nfailing: exit 3\n")
    runner = BareSupervisord(tmp_path / "var", procfile=procfile)
    try:
        runner.start()
        steady_pid = runner.program_pid("steady")
        spawn_times: list[float] = []

        def spawned_three_times() -> bool:
            spawn_times[:] = [
                datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                for line in runner.log_path.read_text().splitlines()
                if "spawned: 'failing'" in line]
            return len(spawn_times) >= 3

        wait_for("three starts of the failing process", spawned_three_times, 30)
        gaps = [later - earlier for earlier, later in itertools.pairwise(spawn_times)]
        assert gaps[0] >= 0.9 and gaps[1] >= 1.9, gaps  # supervisord waits 1 s, 2 s, 3 s …
        log = runner.log_path.read_text()
        assert "exited: failing (exit status 3; not expected)" in log
        assert runner.process_info("steady")["statename"] == "RUNNING"
        assert runner.program_pid("steady") == steady_pid  # the others run on
    finally:
        runner.stop()


def test_a_procfile_or_env_that_supervisord_cannot_take_is_refused() -> None:
    with pytest.raises(supervise.ConfigError, match="line 2"):
        supervise.read_procfile("web: serve\nweb: serve again\n")
    with pytest.raises(supervise.ConfigError, match="SECRET"):
        supervise.supervisord_config(supervise.read_procfile("web: serve\n"),
                                     {"SECRET": 'a"b'}, Path("var"), Path("."))
