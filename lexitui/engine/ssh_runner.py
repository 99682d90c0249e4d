"""Start, check and stop a long-running command on another machine over SSH (an RPC worker, a Ray
node), with the system's own ``ssh`` client.

What keeps it safe:
- ``BatchMode=yes``: never a password or passphrase prompt (a key, or an agent holding it);
  ``IdentitiesOnly=yes`` with the given key, so an agent's other keys are not offered around.
- Host keys live in a ``known_hosts`` file of lexitui's own, and are checked strictly: an unknown
  host is refused unless the user asked to trust it (then ``accept-new`` records its key once). A
  host whose recorded key *changed* is refused even then (never ``StrictHostKeyChecking=no``):
  that is what a machine in the middle looks like.
- Everything sent to the remote shell is quoted (``shlex``); host, user and names follow an
  allowlist, and a destination can never start with ``-`` (it would be read as an ssh option).

A started command runs in its own session (``setsid``) with its output in a log on the host, so
it outlives the SSH connection and can be stopped as a group (a shell wrapper and its children
together). Its pid is recorded with its start time as ``ps`` gives it, so a later check or stop
never signals an unrelated process that reused the pid.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_SSH_PORT = 22
CONNECT_TIMEOUT_S = 10
STOP_GRACE_S = 5  # SIGTERM, then this long before SIGKILL
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\]")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
REMOTE_LOG_DIR = ".cache/lexitui/remote"  # under the remote user's home


class SshError(Exception):
    """The remote command could not be started, checked or stopped; the message says why."""


@dataclass(frozen=True)
class SshTarget:
    host: str
    user: str | None = None
    port: int = DEFAULT_SSH_PORT

    @classmethod
    def parse(cls, text: str) -> SshTarget:
        """``[user@]host[:port]``, IPv6 in brackets (``[fd00::5]:2222``)."""
        rest = text.strip()
        user, at, host_port = rest.rpartition("@")
        host, port = host_port, DEFAULT_SSH_PORT
        if host_port.count(":") == 1 or (host_port.startswith("[") and "]:" in host_port):
            host, _, port_text = host_port.rpartition(":")
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise SshError(f"{rest!r}: the port must be 1 to 65535")
            port = int(port_text)
        if (at and not _USER.fullmatch(user)) or not _HOST.fullmatch(host):
            raise SshError(f"{rest!r} is not [USER@]HOST[:PORT] (e.g. me@gpu2 or me@10.0.0.5:22)")
        return cls(host.removeprefix("[").removesuffix("]"), user if at else None, port)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        return f"{user}{host}" + ("" if self.port == DEFAULT_SSH_PORT else f":{self.port}")


@dataclass(frozen=True)
class RemoteProcess:
    """A command started on a host: what a later check or stop needs to find it again."""

    name: str
    target: str  # SshTarget as text
    pid: int
    started: str  # `ps -o lstart=` of the pid: the same pid with another start is another process
    command: tuple[str, ...]
    log: str  # on the host, relative to the user's home

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "command": list(self.command)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RemoteProcess:
        return cls(
            name=str(data["name"]),
            target=str(data["target"]),
            pid=int(data["pid"]),
            started=str(data["started"]),
            command=tuple(str(a) for a in data["command"]),
            log=str(data["log"]),
        )


class SshRunner:
    def __init__(
        self,
        target: SshTarget,
        identity: Path,
        known_hosts: Path,
        *,
        trust_new_host: bool = False,
        timeout_s: float = 30.0,
    ) -> None:
        self.target = target
        self.identity = identity
        self.known_hosts = known_hosts
        self.trust_new_host = trust_new_host
        self.timeout_s = timeout_s

    def ssh_argv(self, remote_script: str) -> list[str]:
        checking = "accept-new" if self.trust_new_host else "yes"
        options = {
            "BatchMode": "yes",
            "IdentitiesOnly": "yes",
            "StrictHostKeyChecking": checking,
            "UserKnownHostsFile": str(self.known_hosts),
            "GlobalKnownHostsFile": "/dev/null",  # only the keys lexitui recorded count
            "ConnectTimeout": str(CONNECT_TIMEOUT_S),
            "LogLevel": "ERROR",
        }
        argv = ["ssh", "-p", str(self.target.port), "-i", str(self.identity), "-T"]
        for key, value in options.items():
            argv += ["-o", f"{key}={value}"]
        return [*argv, "--", self.target.destination, remote_script]

    def run(self, remote_script: str) -> str:
        """Run a shell script on the host; its stdout, or ``SshError`` with ssh's own reason."""
        if not self.identity.is_file():
            raise SshError(f"no identity file at {self.identity}")
        self.known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                self.ssh_argv(remote_script),
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise SshError("no ssh client: install OpenSSH's client (openssh-client)") from None
        except subprocess.TimeoutExpired:
            raise SshError(f"{self.target} did not answer within {self.timeout_s:.0f} s") from None
        if done.returncode == 255:
            raise SshError(self._explain(done.stderr))
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
            raise SshError(f"on {self.target}: {tail[0]}")
        return done.stdout

    def _explain(self, stderr: str) -> str:
        said = " ".join(stderr.split()) or "ssh failed"
        if "Host key verification failed" in said and "REMOTE HOST IDENTIFICATION" in said:
            return f"{self.target}'s host key changed since it was trusted: refusing ({said})"
        if "Host key verification failed" in said or "host key is known" in said:
            return (
                f"{self.target} is not a known host: check its key fingerprint "
                f"(ssh-keyscan -p {self.target.port} {self.target.host} | ssh-keygen -lf -), "
                "then trust it once with --trust-new-host"
            )
        return f"cannot reach {self.target} over SSH: {said}"

    def start(self, name: str, command: list[str], settle_s: float = 0.5) -> RemoteProcess:
        """Start ``command`` in the background on the host; checks it is still running after
        ``settle_s`` (a command that fails at once says why, from its log)."""
        if not _NAME.fullmatch(name):
            raise SshError(f"{name!r} is not a name (1-32 of a-z 0-9 - _)")
        if not command:
            raise SshError("no command to run")
        log = f"{REMOTE_LOG_DIR}/{name}.log"
        script = (
            f"cd && mkdir -p {REMOTE_LOG_DIR} && "
            f"{{ nohup setsid {shlex.join(command)} > {log} 2>&1 < /dev/null & }}; "
            'pid=$!; echo "$pid"; ps -o lstart= -p "$pid"; '
            f"sleep {settle_s}; "
            f'kill -0 "$pid" 2>/dev/null || {{ echo "exited:"; tail -n 3 {log}; }}'
        )
        lines = self.run(script).splitlines()
        if "exited:" in lines:
            said = " ".join(lines[lines.index("exited:") + 1 :]).strip() or "no output"
            raise SshError(f"{command[0]} ended at once on {self.target}: {said}")
        if len(lines) < 2 or not lines[0].strip().isdigit():
            raise SshError(f"{self.target} did not say the pid it started: {lines[:2]}")
        return RemoteProcess(name, str(self.target), int(lines[0]), lines[1].strip(),
                             tuple(command), log)  # fmt: skip

    def is_running(self, process: RemoteProcess) -> bool:
        return self.run(_same_process(process) + "echo running || echo gone").strip() == "running"

    def stop(self, process: RemoteProcess) -> str:
        """Stop the process and its group: SIGTERM, SIGKILL after a grace. Returns 'stopped',
        'killed' or 'gone' (it had ended already)."""
        pid = process.pid
        script = (
            _same_process(process) + ": || { echo gone; exit 0; }; "
            f"kill -TERM -{pid} 2>/dev/null || kill -TERM {pid}; i=0; "
            f"while kill -0 {pid} 2>/dev/null && [ $i -lt {STOP_GRACE_S * 10} ]; "
            "do sleep 0.1; i=$((i+1)); done; "
            f"if kill -0 {pid} 2>/dev/null; then kill -KILL -{pid} 2>/dev/null || "
            f"kill -KILL {pid}; echo killed; else echo stopped; fi"
        )
        return self.run(script).strip().splitlines()[-1]


def _same_process(process: RemoteProcess) -> str:
    """A shell test: the recorded pid is alive and started when it was recorded."""
    started = shlex.quote(process.started)
    return f'[ "$(ps -o lstart= -p {process.pid} 2>/dev/null)" = {started} ] && '
