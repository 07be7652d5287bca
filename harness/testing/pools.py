"""The harness's two Celery worker pools, as the Procfile runs them: `worker` judges (the
default queue) and `notify` tells Slack and webhooks (the notify queue)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from harness.testing.servers import CeleryWorker
from workers import DEFAULT_QUEUE, NOTIFY_QUEUE


class WorkerPools:
    """A judging and a notifying Celery worker of the `workers` app, started and stopped
    together; their logs read as one."""

    def __init__(self, env: dict[str, str], log_dir: Path, concurrency: int = 2,
                 notify_concurrency: int = 2) -> None:
        self.judging = CeleryWorker(env, log_dir, concurrency, queues=[DEFAULT_QUEUE])
        self.notify = CeleryWorker(env, log_dir, notify_concurrency, queues=[NOTIFY_QUEUE],
                                   name="notify")

    @property
    def pools(self) -> tuple[CeleryWorker, CeleryWorker]:
        """Both workers, judging first."""
        return self.judging, self.notify

    @property
    def running(self) -> bool:
        """Tell whether both workers are alive."""
        return all(pool.running for pool in self.pools)

    def start(self) -> Self:
        """Start both (the notify pool first, so that no message waits for it)."""
        self.notify.start()
        self.judging.start()
        return self

    def stop(self) -> None:
        """Stop both."""
        for pool in self.pools:
            pool.stop()

    def kill(self) -> None:
        """SIGKILL both, as a crash of the host would."""
        for pool in self.pools:
            pool.kill()

    def new_output(self) -> str:
        """What both logs gained since their latest start (the judging worker's first)."""
        return "".join(pool.new_output() for pool in self.pools)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of each log."""
        return "\n".join(f"{pool.log_path}:\n{pool.log_tail(lines)}" for pool in self.pools)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
