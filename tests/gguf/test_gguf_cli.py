"""``lexitui gguf PATH_OR_URL [--json]``: fields printed, bad files as one line, no traceback."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lexitui.commands import gguf as gguf_cli
from lexitui.gguf import GgufError
from tests.gguf.craft import STRING, Crafted, kv
from tests.gguf.range_server import Behaviour, RangeServer


def _args(source: str | Path, as_json: bool = False) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    gguf_cli.add_parser(parser.add_subparsers(dest="command"))
    argv = ["gguf", str(source), *(["--json"] if as_json else [])]
    return parser.parse_args(argv)


async def test_the_starter_model_prints_its_fields(
    starter_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args(starter_path)
    assert args.func is gguf_cli.cmd_gguf
    assert await gguf_cli.cmd_gguf(args) == 0
    lines = capsys.readouterr().out.splitlines()
    fields = {line[:16].strip(): line[18:] for line in lines}
    assert fields["Architecture"] == "llama"
    assert fields["Parameters"] == "134.5 M (134,515,008)"
    assert fields["Layers"] == "30"
    assert (fields["Heads"], fields["KV heads"]) == ("9", "3")
    assert fields["Embedding length"] == "576"
    assert fields["Context length"] == "8,192"
    assert fields["File type"] == "Q4_1 (3)"
    assert fields["Tensors"] == "272"
    assert fields["Header bytes"] == "1.7 MiB (1,785,664 bytes)"


async def test_json_output(starter_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await gguf_cli.cmd_gguf(_args(starter_path, as_json=True)) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["architecture"], data["block_count"], data["tensor_count"]) == ("llama", 30, 272)
    assert "bytes_fetched" not in data


async def test_a_url_also_reports_bytes_fetched(
    llama_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with RangeServer(Behaviour(path=llama_file)) as server:
        assert await gguf_cli.cmd_gguf(_args(server.url)) == 0
        assert "Fetched" in capsys.readouterr().out
        assert await gguf_cli.cmd_gguf(_args(server.url, as_json=True)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bytes_fetched"] >= data["header_bytes"]
    assert data["requests"] == 1


async def test_a_hostile_name_is_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "evil.gguf"
    path.write_bytes(bytes(Crafted([kv("general.name", STRING, "x\x1b]0;pwn\x07")], [])))
    await gguf_cli.cmd_gguf(_args(path))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "x\\x1b]0;pwn\\x07" in out


async def test_a_bad_file_raises_for_main_to_print(tmp_path: Path) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"GGUF\x01\x00\x00\x00" + b"\x00" * 16)
    with pytest.raises(GgufError, match="version 1"):
        await gguf_cli.cmd_gguf(_args(path))


def test_a_bad_file_prints_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(b"not a model")
    done = subprocess.run(
        [sys.executable, "-m", "lexitui", "gguf", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == f"lexitui: {path}: not a GGUF file (bad magic)\n"


def test_hf_token_goes_only_to_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_abc")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9999")
    bearer = {"Authorization": "Bearer hf_abc"}
    assert gguf_cli.hub_auth_headers("https://huggingface.co/a/b/resolve/main/m.gguf") == bearer
    assert gguf_cli.hub_auth_headers("http://127.0.0.1:9999/a/b/resolve/main/m.gguf") == bearer
    assert gguf_cli.hub_auth_headers("https://example.com/m.gguf") == {}
    assert gguf_cli.hub_auth_headers("http://huggingface.co/m.gguf") == {}  # not over https
    assert gguf_cli.hub_auth_headers("http://127.0.0.1:9998/m.gguf") == {}  # another port
    monkeypatch.delenv("HF_TOKEN")
    assert gguf_cli.hub_auth_headers("https://huggingface.co/m.gguf") == {}
