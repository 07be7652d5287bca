"""The Procfile's processes under supervisord: its configuration, made from the Procfile and
the .env file each time the runner starts, so the Procfile stays the one list of processes.

A process that exits is started again (at once if it had run `START_SECONDS`; after 1, 2,
3 … s if it keeps failing to start), and supervisord logs every exit and start.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

# The processes the others need: started first and stopped last.
BACKING_SERVICES = frozenset({"redis", "influxdb"})
# A process that exits sooner has failed to start: it waits 1 s, 2 s, 3 s … before the next
# try, and after START_RETRIES failed tries in a row (about 30 minutes) it is left FATAL.
START_SECONDS = 3
START_RETRIES = 60
# How long a stopping process may take (a Celery warm shutdown, gunicorn's graceful
# timeout) before its whole process group is killed.
STOP_WAIT_SECONDS = 30
LOG_MAX_BYTES = "20MB"
LOG_BACKUPS = 5

# The format of a Procfile line, as honcho and foreman read it.
_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")


class ConfigError(ValueError):
    """A Procfile or .env that supervisord cannot be configured from; says which line or key."""


@dataclass(frozen=True)
class Process:
    """One Procfile line: a name and a shell command."""

    name: str
    command: str


def read_procfile(text: str) -> list[Process]:
    """The processes of a Procfile, in its order; comments and blank lines are skipped."""
    processes: list[Process] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _PROCFILE_LINE.match(line.strip())
        if match is None:
            if line.strip() and not line.lstrip().startswith("#"):
                raise ConfigError(f"Procfile line {number}: not `name: command`")
            continue
        name, command = match.groups()
        if any(process.name == name for process in processes):
            raise ConfigError(f"Procfile line {number}: a second process named {name!r}")
        processes.append(Process(name, command))
    if not processes:
        raise ConfigError("the Procfile has no process")
    return processes


def _escape(text: str) -> str:
    """Text as a supervisord value: `%` starts an expansion there."""
    return text.replace("%", "%%")


def _environment_value(key: str, value: str) -> str:
    # supervisord reads `KEY="value",…` with a non-POSIX shlex and strips the quotes: no
    # escape can carry a double quote or a newline, and outer single quotes would be lost.
    if '"' in value or "\n" in value or value.startswith("'") or value.endswith("'"):
        raise ConfigError(f".env: the value of {key} cannot be passed to supervisord "
                          "(a double quote, a newline or an outer single quote)")
    return f'{key}="{_escape(value)}"'


def supervisord_config(processes: Sequence[Process], environment: Mapping[str, str],
                       var_dir: Path, root: Path) -> str:
    """supervisord.conf text: every process started from `root` by /bin/sh with
    `environment` set, restarted when it exits, its output in var_dir/log/NAME.log; the
    runner's own log var_dir/log/supervisord.log; supervisorctl on var_dir/supervisor.sock."""
    var_dir, root = Path(var_dir).resolve(), Path(root).resolve()
    log_dir = var_dir / "log"
    pairs = ",".join(_environment_value(key, value) for key, value in environment.items())
    lines = [
        "; Made by `python -m harness.tools.supervise` from the Procfile and .env at each start;",
        "; edit those instead.",
        "[supervisord]",
        "nodaemon = true",
        "silent = true",
        f"logfile = {_escape(str(log_dir / 'supervisord.log'))}",
        "logfile_maxbytes = 10MB",
        "logfile_backups = 3",
        "loglevel = info",
        f"pidfile = {_escape(str(var_dir / 'supervisord.pid'))}",
        f"directory = {_escape(str(root))}",
        "identifier = harness",
        "",
        "[unix_http_server]",
        f"file = {_escape(str(var_dir / 'supervisor.sock'))}",
        "chmod = 0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl = unix://{_escape(str(var_dir / 'supervisor.sock'))}",
    ]
    for process in processes:
        lines += [
            "",
            f"[program:{process.name}]",
            f"command = /bin/sh -c {_escape(shlex.quote(process.command))}",
            f"directory = {_escape(str(root))}",
            # here, not in [supervisord], which expands `%` once more
            *([f"environment = {pairs}"] if pairs else []),
            f"priority = {100 if process.name in BACKING_SERVICES else 200}",
            "autostart = true",
            "autorestart = true",
            f"startsecs = {START_SECONDS}",
            f"startretries = {START_RETRIES}",
            # SIGTERM to the process alone (Celery and gunicorn stop their children
            # gracefully), SIGKILL to its whole group if it is still there after the wait.
            "stopsignal = TERM",
            f"stopwaitsecs = {STOP_WAIT_SECONDS}",
            "stopasgroup = false",
            "killasgroup = true",
            "redirect_stderr = true",
            f"stdout_logfile = {_escape(str(log_dir / f'{process.name}.log'))}",
            f"stdout_logfile_maxbytes = {LOG_MAX_BYTES}",
            f"stdout_logfile_backups = {LOG_BACKUPS}",
        ]
    return "\n".join(lines) + "\n"


def read_env_file(path: Path) -> dict[str, str]:
    """The variables a .env file sets (python-dotenv's reading: quotes, comments, ${VAR})."""
    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def main(argv: Sequence[str] | None = None) -> int:
    """Write the supervisord configuration of a Procfile; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m harness.tools.supervise", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--procfile", type=Path, default=Path("Procfile"))
    parser.add_argument("--env-file", type=Path, default=Path(".env"),
                        help="variables set for every process (default: .env)")
    parser.add_argument("--var-dir", type=Path, default=Path("var"),
                        help="where the socket, the pid file and log/ go (default: var)")
    parser.add_argument("--root", type=Path, default=Path.cwd(),
                        help="the folder the processes run in (default: this one)")
    parser.add_argument("--output", type=Path, required=True, help="the file to write")
    args = parser.parse_args(argv)
    try:
        processes = read_procfile(args.procfile.read_text())
        environment = read_env_file(args.env_file) if args.env_file.exists() else {}
        text = supervisord_config(processes, environment, args.var_dir, args.root)
    except (OSError, ConfigError) as error:
        print(f"harness.tools.supervise: {error}", file=sys.stderr)
        return 1
    (args.var_dir / "log").mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
