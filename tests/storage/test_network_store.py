"""Two hosts sharing one model store, as a network file system gives them: two lexitui homes
on two host names, their stores pointed at one folder, each command a separate process.

A model pulled on host A is registered on host B after its sha256 is checked, and loads
there, without a byte fetched again; a damaged copy is refused with the reason; a model another
host is writing cannot be deleted, and the refusal names that host and pid."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lexitui.config import Paths
from lexitui.downloads.layout import StoreLayout
from lexitui.files.host_lock import HOST_ENV
from lexitui.files.model_location import Location, write_location
from lexitui.services import Services
from lexitui.storage.manager import StorageManager
from tests.downloads.conftest import STARTER_REPO, TINY, cdn_gets
from tests.fakes.hub_server import FakeHub

MODEL_ID = "lexitui-fixtures.tiny-random-llama-gguf:q8_0"
# The starter model's repository, served by the fake Hub: small, and llama.cpp loads it.
LOADABLE_ID = "quantfactory.smollm2-135m-instruct-gguf:q4_1"


class Host:
    def __init__(self, name: str, tmp_path: Path, shared: Path) -> None:
        self.name = name
        home = tmp_path / f"home-{name}"
        write_location(home / "data", Location(shared))
        self.env = {
            **os.environ,
            "LEXITUI_HOME": str(home),
            HOST_ENV: name,
            "HOME": str(tmp_path),
            "HF_HOME": str(tmp_path / "hf-home"),
            "HF_HUB_CACHE": str(tmp_path / "hf"),
            "OLLAMA_MODELS": str(tmp_path / "ollama"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "lexitui", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    return tmp_path / "shared-models"


@pytest.fixture
def hosts(tmp_path: Path, shared: Path, hub: FakeHub) -> tuple[Host, Host]:
    return Host("gpu1", tmp_path, shared), Host("gpu2", tmp_path, shared)


def pulled_on(host: Host, target: str = f"{TINY}:Q8_0") -> None:
    done = host.run("pull", target)
    assert done.returncode == 0, done.stderr


@pytest.mark.engine
def test_a_model_pulled_on_one_host_loads_on_the_other_after_sync(
    hosts: tuple[Host, Host], hub: FakeHub, shared: Path
) -> None:
    a, b = hosts
    pulled_on(a, f"{STARTER_REPO}:Q4_1")
    fetched = len(cdn_gets(hub))
    manifest = json.loads(StoreLayout(shared).manifest_path(LOADABLE_ID).read_text())
    assert manifest["written_by"]["host"] == "gpu1"
    assert LOADABLE_ID not in {m["id"] for m in b.json("ls")}

    synced = b.json("storage", "sync")
    assert synced["registered"] == [LOADABLE_ID] and synced["refused"] == []
    assert synced["mount"] is not None
    listed = {m["id"]: m for m in b.json("ls")}
    assert listed[LOADABLE_ID]["path"].startswith(str(shared))
    answer = b.run("run", LOADABLE_ID, "hi", "--max-tokens", "2", "--seed", "1")
    assert answer.returncode == 0, answer.stderr
    assert len(cdn_gets(hub)) == fetched  # nothing downloaded again
    again = b.json("storage", "sync")
    assert again["registered"] == []  # known now


def test_a_damaged_shared_copy_is_refused_with_the_reason(
    hosts: tuple[Host, Host], shared: Path
) -> None:
    a, b = hosts
    pulled_on(a)
    (entry,) = json.loads(StoreLayout(shared).manifest_path(MODEL_ID).read_text())["files"]
    blob = StoreLayout(shared).blob_path(entry["digest"].removeprefix("sha256-"))
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit on the server
    blob.write_bytes(bytes(data))

    done = b.run("storage", "sync")
    assert done.returncode == 1
    assert f"REFUSED     {MODEL_ID}  from gpu1: " in done.stdout
    assert "does not match the recorded" in done.stdout
    assert MODEL_ID not in {m["id"] for m in b.json("ls")}


def test_a_model_another_host_is_writing_cannot_be_deleted(
    hosts: tuple[Host, Host], shared: Path
) -> None:
    a, b = hosts
    pulled_on(a)
    b.json("storage", "sync")
    lock = StoreLayout(shared).lock_path(MODEL_ID)
    now = time.time()
    holder = {"host": "gpu1", "pid": 4312, "started": now, "heartbeat": now, "purpose": "download"}
    lock.write_text(json.dumps(holder))
    refused = b.run("rm", MODEL_ID)
    since = time.strftime("%H:%M", time.localtime(now))
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"lexitui: {MODEL_ID} is being downloaded by gpu1 (pid 4312) since {since}; "
        "try again when it is done"
    )
    assert MODEL_ID in {m["id"] for m in b.json("ls")}
    lock.unlink()
    assert b.run("rm", MODEL_ID).returncode == 0


def test_the_storage_command_names_the_file_system(hosts: tuple[Host, Host]) -> None:
    a, _ = hosts
    info = a.json("storage")
    assert info["store_mount"] is not None and not info["store_is_shared"]  # a local tmp folder
    assert f"file system   models on {info['store_mount']}" in a.run("storage").stdout


async def test_another_hosts_model_is_no_leftover_of_this_hosts(
    hosts: tuple[Host, Host], shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Host B has no row for host A's model; its start-up reconciliation must not take the
    # manifest for a crash's leftover and sweep the blob with it.
    a, b = hosts
    pulled_on(a)
    monkeypatch.setenv("LEXITUI_HOME", b.env["LEXITUI_HOME"])
    monkeypatch.setenv(HOST_ENV, b.name)
    services = Services.build(Paths.from_env())
    await services.start()
    try:
        manager = StorageManager(
            services.paths.data_dir, services.store, services.registry, services.bus, grace_s=0
        )
        report = await manager.reconcile()
    finally:
        await services.stop()
    layout = StoreLayout(shared)
    assert report.removed_blobs == ()
    assert layout.manifest_path(MODEL_ID).exists()
    assert [p.name for p in layout.blobs_dir.iterdir()] != []
    assert b.json("storage", "sync")["registered"] == [MODEL_ID]


async def test_a_pull_waits_while_another_host_downloads_the_model_and_says_who(
    hosts: tuple[Host, Host], shared: Path
) -> None:
    _, b = hosts
    lock = StoreLayout(shared).lock_path(MODEL_ID)
    lock.parent.mkdir(parents=True)
    now = time.time()
    holder = {"host": "gpu1", "pid": 4312, "started": now, "heartbeat": now, "purpose": "download"}
    lock.write_text(json.dumps(holder))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lexitui", "pull", f"{TINY}:Q8_0", "--json",
        env=b.env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    waiting = "being downloaded by gpu1 (pid 4312) since"
    async with asyncio.timeout(60):
        while waiting not in (line := (await process.stdout.readline()).decode()):
            assert line, "the pull ended without waiting"
    assert not StoreLayout(shared).manifest_path(MODEL_ID).exists()
    lock.unlink()  # gpu1 is done: the pull goes on
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert StoreLayout(shared).manifest_path(MODEL_ID).exists()
    assert not lock.exists()


def test_without_hard_links_the_install_links_hold_wherever_the_store_is_mounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SMB shares often have no hard links: the links to blobs are then symlinks, and relative
    # ones, so a host mounting the store at another path still finds the blob.
    from lexitui.downloads import install

    def no_hard_links(*_args: object, **_kwargs: object) -> None:
        raise OSError("hard links not supported")

    layout = StoreLayout(tmp_path / "mnt-a" / "models")
    layout.ensure()
    blob = layout.blob_path("ab" * 32)
    blob.write_bytes(b"gguf")
    dest = layout.install_dir("m") / "m.gguf"
    dest.parent.mkdir()
    monkeypatch.setattr(os, "link", no_hard_links)
    install._link(blob, dest)
    assert dest.is_symlink() and not os.path.isabs(os.readlink(dest))
    os.rename(tmp_path / "mnt-a", tmp_path / "mnt-b")  # the same store, mounted elsewhere
    moved = StoreLayout(tmp_path / "mnt-b" / "models")
    assert (moved.install_dir("m") / "m.gguf").read_bytes() == b"gguf"
