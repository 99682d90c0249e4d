"""A real OpenSSH server on a loopback port, for one test: its own host key, a user key made for
the test and an authorized_keys file in the test's folder; logins are for the current user, with
HOME set to a folder of the test (so what a remote command writes under ~ stays in the test)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from lexitui.engine.rpc_workers import free_port

SSHD_SEARCH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


@dataclass(frozen=True)
class Sshd:
    port: int
    home: Path  # the remote side's HOME
    identity: Path  # the user's private key, authorized on this server
    host_key: Path  # the server's public host key

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )


@contextmanager
def running_sshd(folder: Path, path_first: Path | None = None) -> Iterator[Sshd]:
    """``path_first``: a folder put first on the remote PATH (programs a test stands in for)."""
    sshd = shutil.which("sshd", path=SSHD_SEARCH)
    if sshd is None:
        pytest.skip("needs sshd, from the openssh-server package (apt-get install openssh-server)")
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        pytest.skip("needs ssh and ssh-keygen, from the openssh-client package")
    folder.mkdir(parents=True, exist_ok=True)
    _keygen(folder / "host_key")
    _keygen(folder / "user_key")
    home = folder / "home"
    home.mkdir()
    user_key = (folder / "user_key.pub").read_text().strip()
    options = f'environment="HOME={home}"'
    if path_first is not None:
        options += f',environment="PATH={path_first}{os.pathsep}{os.environ.get("PATH", "")}"'
    (folder / "authorized_keys").write_text(f"{options} {user_key}\n")
    config = folder / "sshd_config"
    config.write_text(
        "ListenAddress 127.0.0.1\n"
        f"HostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
        f"PidFile {folder / 'sshd.pid'}\n"
        "UsePAM no\nStrictModes no\nPasswordAuthentication no\nPermitUserEnvironment yes\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
    )
    _privsep_dir(sshd, config)
    port = free_port()
    log = (folder / "sshd.log").open("w")
    proc = subprocess.Popen(
        [sshd, "-D", "-e", "-f", str(config), "-p", str(port)], stdout=log, stderr=log
    )
    try:
        _await_port(port, proc, folder / "sshd.log")
        yield Sshd(port, home, folder / "user_key", folder / "host_key.pub")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _privsep_dir(sshd: str, config: Path) -> None:
    """Run as root, sshd wants its privilege-separation folder, which the system's service makes
    when it starts; make it (as that service would) when it is missing."""
    check = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, text=True)
    missing = re.search(r"Missing privilege separation directory: (\S+)", check.stderr)
    if missing and os.geteuid() == 0:
        Path(missing[1]).mkdir(mode=0o755, parents=True, exist_ok=True)
    elif check.returncode != 0:
        pytest.fail(f"sshd refused the test configuration: {check.stderr.strip()}")


def _await_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd ended: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"sshd did not listen within 15 s: {log.read_text()}")
