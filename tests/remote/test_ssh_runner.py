"""Commands started and stopped on a host over SSH, for real: an OpenSSH server on a loopback
port, a key made for the test, and lexitui's own known_hosts file checked strictly."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from lexitui.cli import main
from lexitui.config import Paths
from lexitui.engine.kinds import RPC_BINARY_NAME
from lexitui.engine.rpc_address import RpcEndpoint
from lexitui.engine.rpc_probe import RpcProbeError, worker_memory
from lexitui.engine.rpc_workers import free_port
from lexitui.engine.ssh_runner import SshError, SshRunner, SshTarget
from tests.remote.sshd import Sshd, running_sshd


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    with running_sshd(tmp_path / "sshd") as server:
        yield server


def runner(server: Sshd, known_hosts: Path, trust: bool = False) -> SshRunner:
    target = SshTarget.parse(server.target)
    return SshRunner(target, server.identity, known_hosts, trust_new_host=trust)


def test_an_unknown_host_is_refused_until_the_user_trusts_it(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "ssh" / "known_hosts"
    with pytest.raises(SshError, match="is not a known host: check its key fingerprint"):
        runner(sshd, known).run("echo hi")
    assert runner(sshd, known, trust=True).run("echo hi") == "hi\n"
    host_key = sshd.host_key.read_text().split()[1]
    assert host_key in known.read_text()  # recorded once; strict checking finds it from now on
    assert runner(sshd, known).run("echo again") == "again\n"


def test_a_changed_host_key_is_refused_even_when_trusting_new_hosts(
    sshd: Sshd, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    impostor = sshd.identity.with_suffix(".pub").read_text().split()  # some other ed25519 key
    known.write_text(f"[127.0.0.1]:{sshd.port} {impostor[0]} {impostor[1]}\n")
    with pytest.raises(SshError, match="host key changed since it was trusted: refusing"):
        runner(sshd, known, trust=True).run("echo hi")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_lexitui_starts_a_long_running_command_over_ssh_and_stops_it(
    sshd: Sshd, lexitui_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ssh = ("--ssh", sshd.target, "--identity", str(sshd.identity))
    code, out, err = cli(capsys, "remote", "start", "--name", "sleeper", *ssh, "--trust-new-host",
                         "--", "sleep", "300")  # fmt: skip
    assert (code, err) == (0, "")
    record = json.loads((Paths.from_env().data_dir / "remote" / "sleeper.json").read_text())
    pid = record["pid"]
    assert out == f"started sleeper on {sshd.target}: pid {pid}, log ~/{record['log']}\n"
    assert (sshd.home / record["log"]).is_file()  # the log is on the host, under its HOME
    # The pid recorded is the command itself, in a session of its own, past the SSH connection.
    process = psutil.Process(pid)
    assert process.cmdline() == ["sleep", "300"]
    assert psutil.Process(pid).ppid() != 0 and process.status() != psutil.STATUS_ZOMBIE

    code, out, _ = cli(capsys, "remote", "status", "--json")
    assert code == 0 and [(r["name"], r["state"]) for r in json.loads(out)] == [
        ("sleeper", "running")
    ]
    code, out, err = cli(capsys, "remote", "start", "--name", "sleeper", *ssh, "--", "sleep", "300")
    assert code == 1 and "sleeper is already started" in err

    code, out, _ = cli(capsys, "remote", "stop", "sleeper")
    assert (code, out) == (0, f"sleeper on {sshd.target}: stopped\n")
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid)
    code, out, _ = cli(capsys, "remote", "status", "--json")
    assert json.loads(out) == []


def test_a_command_that_fails_at_once_says_why_and_nothing_is_recorded(
    sshd: Sshd, lexitui_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "remote", "start", "--name", "broken", "--ssh", sshd.target,
                       "--identity", str(sshd.identity), "--trust-new-host",
                       "--", "no-such-program-here", "--flag")  # fmt: skip
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("lexitui remote: no-such-program-here ended at once on 127.0.0.1:")
    assert "No such file or directory" in err
    assert not (Paths.from_env().data_dir / "remote" / "broken.json").exists()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--ssh=-oProxyCommand=x", "--", "true"], "is not [USER@]HOST[:PORT]"),
        (["--ssh", "me@host:99999", "--", "true"], "the port must be 1 to 65535"),
        (["--ssh", "me@host", "--rpc-worker", "8.8.8.8:50052"], "8.8.8.8"),
        (["--ssh", "me@host"], "no command"),
    ],
)
def test_bad_input_is_one_line_and_nothing_starts(
    lexitui_home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    code, out, err = cli(capsys, "remote", "start", "--name", "w", "--identity", "key", *argv)
    assert code == 1 and out == "" and says in err and err.count("\n") == 1


@pytest.mark.engine
def test_an_rpc_worker_started_over_ssh_answers_and_stops(
    sshd: Sshd,
    lexitui_home: Path,
    capsys: pytest.CaptureFixture[str],
    llama_server_binary: Path,
) -> None:
    endpoint = RpcEndpoint("127.0.0.1", free_port())
    program = str(llama_server_binary.with_name(RPC_BINARY_NAME))
    code, _, err = cli(capsys, "remote", "start", "--name", "rpc1", "--ssh", sshd.target,
                         "--identity", str(sshd.identity), "--trust-new-host",
                         "--rpc-worker", str(endpoint), "--rpc-program", program)  # fmt: skip
    assert (code, err) == (0, ""), err
    memory = None
    deadline = time.monotonic() + 30
    while memory is None and time.monotonic() < deadline:
        try:
            memory = asyncio.run(worker_memory(endpoint))
        except RpcProbeError:
            time.sleep(0.2)
    assert memory is not None and memory.devices >= 1 and memory.free_bytes > 0
    assert cli(capsys, "remote", "stop", "rpc1")[:2] == (0, f"rpc1 on {sshd.target}: stopped\n")
    deadline = time.monotonic() + 5
    while not port_free(endpoint) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert port_free(endpoint)


def port_free(endpoint: RpcEndpoint) -> bool:
    try:
        socket.create_connection((endpoint.host, endpoint.port), timeout=1).close()
    except OSError:
        return True
    return False


def test_a_pid_held_by_another_process_is_never_signalled(sshd: Sshd, tmp_path: Path) -> None:
    ssh = runner(sshd, tmp_path / "known_hosts", trust=True)
    process = ssh.start("sleeper", ["sleep", "300"])
    try:
        # The same pid with another start time: what a reused pid looks like.
        other = replace(process, started="Thu Jan  1 00:00:00 1970")
        assert not ssh.is_running(other)
        assert ssh.stop(other) == "gone"
        assert psutil.Process(process.pid).cmdline() == ["sleep", "300"]
        assert ssh.is_running(process)
    finally:
        assert ssh.stop(process) == "stopped"
