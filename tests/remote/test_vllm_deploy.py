"""``lexitui vllm deploy`` and ``vllm stop`` for real over SSH: an OpenSSH server on a loopback
port, with stand-ins for the ``vllm`` and ``ray`` programs first on the remote PATH (the stand-in
server answers on the planned port with a recorded vLLM /metrics page)."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from lexitui.cli import main
from lexitui.commands import vllm_deploy
from lexitui.config import Paths
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.tiers import TIER_LIMITS, Tier
from lexitui.engine.rpc_workers import free_port
from tests.remote.sshd import Sshd, running_sshd

METRICS = Path(__file__).parent.parent / "fixtures" / "vllm" / "metrics_v1_engine.prom"
FAKE_VLLM = """#!{python}
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
args = sys.argv[1:]
with open(os.path.join(os.environ["HOME"], "vllm-argv.json"), "w") as out:
    json.dump(args, out)
port = int(args[args.index("--port") + 1])
model = args[1]
pages = {{
    "/health": b"",
    "/version": b'{{"version": "0.11.0"}}',
    "/v1/models": json.dumps({{"data": [{{"id": model}}]}}).encode(),
    "/metrics": open({metrics!r}, "rb").read(),
}}
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")
    def log_message(self, *args):
        pass
HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""
FAKE_RAY = '#!/bin/sh\necho "$@" >> "$HOME/ray-calls.txt"\nexec sleep 300\n'


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    bin_dir = tmp_path / "remote-bin"
    bin_dir.mkdir()
    for name, text in (("vllm", FAKE_VLLM.format(python=sys.executable, metrics=str(METRICS))),
                       ("ray", FAKE_RAY)):  # fmt: skip
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    with running_sshd(tmp_path / "sshd", path_first=bin_dir) as server:
        yield server


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def remote_pids() -> dict[str, int]:
    folder = Paths.from_env().data_dir / "remote"
    return {p.stem: json.loads(p.read_text())["pid"] for p in folder.glob("*.json")}


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def backend_row(capsys: pytest.CaptureFixture[str], name: str) -> dict[str, object]:
    """The backend's row once it answers (the stand-in server takes a moment to listen)."""
    deadline = time.monotonic() + 20
    while True:
        _, out, _ = cli(capsys, "backends", "--json")
        row: dict[str, object] = {r["name"]: r for r in json.loads(out)}[name]
        if row["status"] == "running" or time.monotonic() > deadline:
            return row
        time.sleep(0.2)


def deploy_and_stop(
    sshd: Sshd, capsys: pytest.CaptureFixture[str], hosts: list[str], ssh: list[str]
) -> tuple[str, list[str]]:
    port = free_port()
    argv = ["vllm", "deploy", "Qwen/Qwen2.5-7B-Instruct", "--port", str(port),
            "--identity", str(sshd.identity), "--trust-new-host", "--yes"]  # fmt: skip
    for host in hosts:
        argv += ["--host", host]
    for target in ssh:
        argv += ["--ssh", target]
    code, out, err = cli(capsys, *argv)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Qwen/Qwen2.5-7B-Instruct: tensor parallel")  # the plan, first
    assert "watch it: lexitui backends · stop it: lexitui vllm stop vllm-127-0-0-1" in lines
    pids = remote_pids()
    assert pids and all(alive(pid) for pid in pids.values())
    row = backend_row(capsys, "vllm-127-0-0-1")
    assert (row["type"], row["status"]) == ("vllm", "running")
    assert row["endpoint"] == f"http://127.0.0.1:{port}/v1"
    assert (row["running_requests"], row["waiting_requests"], row["kv_cache_usage"]) == (5, 1, 0.57)

    code, out, err = cli(capsys, "vllm", "stop", "vllm-127-0-0-1")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "removed backend vllm-127-0-0-1"
    assert not any(alive(pid) for pid in pids.values())
    assert remote_pids() == {}
    code, out, _ = cli(capsys, "backends", "--json")
    assert "vllm-127-0-0-1" not in {r["name"] for r in json.loads(out)}
    argv_seen: list[str] = json.loads((sshd.home / "vllm-argv.json").read_text())
    return out, argv_seen


def test_deploy_on_one_host_serves_with_tensor_parallelism_and_stop_ends_it(
    sshd: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    _, argv = deploy_and_stop(sshd, capsys, ["127.0.0.1:2"], [f"127.0.0.1={sshd.target}"])
    assert argv[:4] == ["serve", "Qwen/Qwen2.5-7B-Instruct", "--tensor-parallel-size", "2"]
    assert "--pipeline-parallel-size" not in argv
    assert not (sshd.home / "ray-calls.txt").exists()


def test_deploy_on_two_hosts_starts_ray_then_the_server_and_stop_ends_them(
    sshd: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts = ["127.0.0.1:1", "localhost:1"]
    ssh = [f"127.0.0.1={sshd.target}", f"localhost={sshd.target}"]
    _, argv = deploy_and_stop(sshd, capsys, hosts, ssh)
    assert argv[argv.index("--pipeline-parallel-size") + 1] == "2"
    assert (sshd.home / "ray-calls.txt").read_text().splitlines() == [
        "start --block --head --port=6379",
        "start --block --address=127.0.0.1:6379",
    ]


def test_deploy_without_yes_and_without_a_terminal_starts_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))  # piped: not a terminal to ask on
    code, out, err = cli(capsys, "vllm", "deploy", "Qwen/Qwen2.5-7B-Instruct", "--host", "gpu1:8",
                         "--ssh", "gpu1=me@gpu1", "--identity", str(tmp_path / "key"))  # fmt: skip
    assert code == 1
    assert out.startswith("Qwen/Qwen2.5-7B-Instruct: tensor parallel 8")
    assert err == (
        "lexitui vllm: not starting without confirmation: run it in a terminal, or add --yes\n"
    )
    assert remote_pids() == {}


def test_deploy_is_refused_below_enterprise_before_anything_is_shown_or_started(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    teams = Entitlements(Tier.TEAMS, "ann", "licensed to ann", managed=True,
                         limits=TIER_LIMITS[Tier.TEAMS])  # fmt: skip
    monkeypatch.setattr(vllm_deploy, "user_entitlements", lambda *_: teams)
    key = str(tmp_path / "key")
    code, out, err = cli(capsys, "vllm", "deploy", "Qwen/Qwen2.5-7B-Instruct", "--host", "gpu1:8",
                         "--ssh", "gpu1=me@gpu1", "--identity", key, "--yes")  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith("lexitui vllm: managed backend deployment needs Enterprise")
    assert len(err.splitlines()) == 1


def test_a_host_that_cannot_be_reached_stops_what_had_started(
    sshd: Sshd, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    code, out, err = cli(capsys, "vllm", "deploy", "Qwen/Qwen2.5-7B-Instruct",
                         "--host", "127.0.0.1:1", "--host", "localhost:1",
                         "--ssh", f"127.0.0.1={sshd.target}", "--ssh", f"localhost={closed}",
                         "--identity", str(sshd.identity), "--trust-new-host", "--yes")  # fmt: skip
    assert code == 1
    assert err.startswith("lexitui vllm: cannot reach 127.0.0.1:")
    assert err.endswith("; stopped what had started\n")
    started = next(x for x in out.splitlines() if x.startswith("started "))
    pid = int(started.rsplit("pid ", 1)[1])
    assert not alive(pid)  # the Ray head, started first, is stopped again
    assert remote_pids() == {}
    assert not (Paths.from_env().data_dir / "vllm" / "vllm-127-0-0-1.json").exists()
    _, out, _ = cli(capsys, "backends", "--json")
    assert "vllm-127-0-0-1" not in {r["name"] for r in json.loads(out)}
