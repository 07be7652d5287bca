"""Tests of harness/testing/servers.py against real servers."""

from __future__ import annotations

import os
import socket
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
import requests
from celery import Celery

from harness.testing import servers
from harness.testing.pools import WorkerPools
from harness.testing.servers import (
    CeleryWorker,
    GunicornServer,
    InfluxServer,
    ManagedProcess,
    ProcfileProcess,
    RedisServer,
    free_port,
)

pytestmark = pytest.mark.timeout(180)


def _gone(pid: int) -> bool:
    """Tell whether no process (not even a zombie) has this PID."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _group_members(pgid: int) -> list[int]:
    """Return the PIDs of live (not zombie) processes whose process group is pgid."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def _ping(url: str) -> bool:
    """Tell whether the Redis at url answers PING."""
    with redis.Redis.from_url(url) as client:
        return bool(client.ping())


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll predicate until it holds or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


class _Script(ManagedProcess):
    ready_timeout = 1.0

    def __init__(self, log_path: Path, script: str, ready: bool = False) -> None:
        super().__init__(log_path)
        self.script = script
        self.ready = ready

    def command(self) -> list[str]:
        return ["sh", "-c", self.script]

    def is_ready(self) -> bool:
        return self.ready


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_redis_ping_and_aof_survives_restart(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server:
        url, first_pid = server.url, server.pid
        assert url == f"redis://127.0.0.1:{server.port}/0" and _ping(url)
        with redis.Redis.from_url(url) as client:
            client.set("kept", "across-restart")
        server.restart()
        assert server.url == url and server.pid != first_pid
        with redis.Redis.from_url(url) as client:
            assert client.get("kept") == b"across-restart"
    assert (tmp_path / "redis" / "redis.log").stat().st_size > 0
    assert first_pid is not None and _gone(first_pid)


def test_stop_reaps_the_pid_and_kill_then_restart(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "redis") as server:
        pid = server.pid
        assert pid is not None and server.running
        server.stop()
        assert server.pid is None and not server.running and _gone(pid)
        server.stop()
        server.start()
        killed = server.pid
        assert killed is not None
        server.kill()
        assert server.pid is None and _gone(killed)
        server.restart()
        assert _ping(server.url)


def test_redis_moves_off_an_occupied_port(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        server = RedisServer(tmp_path / "redis")
        server.port = blocker.getsockname()[1]
        with server:
            assert server.port != blocker.getsockname()[1]
            assert _ping(server.url)


def test_influx_point_survives_restart(tmp_path: Path) -> None:
    with InfluxServer(tmp_path / "influx") as server:
        url = server.url
        assert server.rpc_port not in (8088, server.http_port)
        assert requests.get(f"{url}/ping", timeout=5).status_code == 204
        assert requests.post(f"{url}/query", data={"q": "CREATE DATABASE x"}, timeout=5).ok
        written = requests.post(f"{url}/write", params={"db": "x"},
                                data="m,dataset=d value=1.5 1000000000", timeout=5)
        assert written.status_code == 204, written.text

        def value() -> object:
            query = {"db": "x", "q": "SELECT value FROM m"}
            answer = requests.get(f"{url}/query", params=query, timeout=5).json()
            return answer["results"][0]["series"][0]["values"][0][1]

        assert value() == 1.5
        first_pid = server.pid
        server.restart()
        assert server.url == url and server.pid != first_pid
        assert value() == 1.5
        pid = server.pid
    assert pid is not None and _gone(pid)
    assert (tmp_path / "influx" / "wal").is_dir() and (tmp_path / "influx" / "meta").is_dir()


def test_celery_worker_runs_a_task_sent_through_redis(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "tmpapp.py").write_text(textwrap.dedent("""
        import os
        from pathlib import Path
        from celery import Celery

        app = Celery("tmpapp", broker=os.environ["TMPAPP_BROKER"])
        app.conf.broker_connection_retry_on_startup = True

        @app.task(name="tmpapp.touch", ignore_result=True)
        def touch(path: str) -> None:
            Path(path).write_text("done")
    """))
    marker = tmp_path / "marker.txt"
    with RedisServer(tmp_path / "redis") as broker:
        worker = CeleryWorker({"TMPAPP_BROKER": broker.url}, tmp_path / "logs", concurrency=2,
                              app="tmpapp", cwd=app_dir)
        with worker:
            pid = worker.pid
            assert pid is not None
            assert "ready." in worker.log_path.read_text()
            assert len(_group_members(pid)) >= 3
            with Celery("sender", broker=broker.url) as sender:
                sender.send_task("tmpapp.touch", args=[str(marker)])
            done = _wait_for(lambda: marker.is_file() and marker.read_text() == "done", 20)
            assert done, worker.log_tail()
        assert _gone(pid) and _group_members(pid) == []


def test_the_worker_pools_consume_the_queues_of_their_procfile_lines(tmp_path: Path) -> None:
    pools = WorkerPools({}, tmp_path)
    for pool, name in ((pools.judging, "worker"), (pools.notify, "notify")):
        argv = pool.command()
        queues = argv[argv.index("-Q") + 1]
        assert f" -Q {queues} " in ProcfileProcess(name, {}, tmp_path).line, name
    assert {pools.judging.queues, pools.notify.queues} == {("celery",), ("notify",)}


def test_gunicorn_serves_a_flask_app(tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "tmpweb.py").write_text(textwrap.dedent("""
        import os
        from flask import Flask

        app = Flask(__name__)

        @app.get("/healthz")
        def healthz() -> str:
            return os.environ["TMPWEB_GREETING"]
    """))
    server = GunicornServer({"TMPWEB_GREETING": "hello"}, tmp_path / "logs", app="tmpweb:app",
                            workers=2, cwd=app_dir)
    with server:
        pid = server.pid
        assert pid is not None
        answer = requests.get(f"{server.url}/healthz", timeout=5)
        assert (answer.status_code, answer.text) == (200, "hello")
        deadline = time.monotonic() + 10  # the arbiter forks its workers one by one
        while len(_group_members(pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_group_members(pid)) == 3
    assert _gone(pid) and _group_members(pid) == []


def test_failing_start_raises_with_log_tail(tmp_path: Path) -> None:
    worker = CeleryWorker({}, tmp_path / "logs", app="no_such_module_xyz", cwd=tmp_path)
    with pytest.raises(RuntimeError, match="exited with code") as info:
        worker.start()
    assert "no_such_module_xyz" in str(info.value)
    assert worker.pid is None

    lines = "; ".join(f"echo line{i}" for i in range(40))
    script = _Script(tmp_path / "script.log", f"{lines}; exit 3")
    with pytest.raises(RuntimeError, match="code 3") as info:
        script.start()
    shown = str(info.value).splitlines()
    assert "line39" in shown and "line10" in shown and "line9" not in shown


def test_start_timeout_stops_the_process(tmp_path: Path) -> None:
    script = _Script(tmp_path / "slow.log", "echo waiting; exec sleep 60")
    with pytest.raises(RuntimeError, match="not ready within") as info:
        script.start()
    assert "waiting" in str(info.value) and script.pid is None


def test_stop_escalates_to_sigkill_for_the_whole_group(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers, "STOP_TIMEOUT", 1.0)
    script = _Script(tmp_path / "group.log", "trap '' TERM; sleep 60 & sleep 60 & wait", ready=True)
    with script:
        pid = script.pid
        assert pid is not None
        assert _wait_for(lambda: len(_group_members(pid)) == 3, 5)
        began = time.monotonic()
        script.stop()
        assert 0.9 < time.monotonic() - began < 5
    assert _gone(pid) and _wait_for(lambda: _group_members(pid) == [], 5)
