"""``lexitui fit`` over many models at once, run as a user would, against the local Hub."""

from __future__ import annotations

import json
from pathlib import Path

from tests.discovery.test_discovery_cli import STARTER_FILE, STARTER_REPO, lexitui
from tests.fakes.hub_server import FakeHub

TINY_REPO = "lexitui-fixtures/tiny-random-llama-GGUF"
MISSING_REPO = "nobody/no-such-model"
ROW_KEYS = {
    "model",
    "variant",
    "level",
    "verdict",
    "ram_bytes",
    "vram_bytes",
    "gpu_layers",
    "tokens_per_second",
    "context_length",
    "reason",
}


def _rows(stdout: str) -> dict[str, str]:
    """The text table's data rows, by their first column."""
    lines = stdout.strip().splitlines()
    return {line.split()[0]: line for line in lines[1:-1]}


async def test_several_models_make_one_table_and_a_missing_repo_is_a_row(hub: FakeHub) -> None:
    result = lexitui("fit", STARTER_REPO, MISSING_REPO, f"{STARTER_REPO}/{STARTER_FILE}")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["MODEL", "VARIANT", "VERDICT"]
    assert lines[-1] == "2 of 3 analysed"
    rows = _rows(result.stdout)
    assert set(rows) == {STARTER_REPO, MISSING_REPO, f"{STARTER_REPO}/{STARTER_FILE}"}
    assert " error " in rows[MISSING_REPO] and "not found" in rows[MISSING_REPO]
    assert STARTER_FILE in rows[f"{STARTER_REPO}/{STARTER_FILE}"]
    assert " error " not in rows[STARTER_REPO]


async def test_json_is_a_list_of_rows_in_the_order_given(hub: FakeHub) -> None:
    result = lexitui("fit", MISSING_REPO, STARTER_REPO, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert isinstance(rows, list) and [r["model"] for r in rows] == [MISSING_REPO, STARTER_REPO]
    assert all(set(r) == ROW_KEYS for r in rows)
    missing, starter = rows
    assert missing["verdict"] == "error" and MISSING_REPO in missing["reason"]
    assert missing["variant"] is None and missing["ram_bytes"] is None
    assert starter["level"] in ("optimal", "comfortable")
    assert starter["variant"] and starter["ram_bytes"] > 0 and starter["context_length"] > 0
    assert starter["tokens_per_second"] > 0 and starter["gpu_layers"] is not None


async def test_from_file_skips_comments_and_blank_lines(hub: FakeHub, tmp_path: Path) -> None:
    listing = tmp_path / "models.txt"
    listing.write_text(
        f"# models to try\n\n{STARTER_REPO}   # the starter\n{TINY_REPO}\n  # {MISSING_REPO}\n"
    )
    result = lexitui("fit", "--from-file", str(listing), "--json")
    assert result.returncode == 0, result.stderr
    assert [r["model"] for r in json.loads(result.stdout)] == [STARTER_REPO, TINY_REPO]


async def test_search_analyses_the_search_results(hub: FakeHub) -> None:
    result = lexitui("fit", "--search", "SmolLM2", "--limit", "5", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert row["model"] == STARTER_REPO and row["verdict"] != "error"


async def test_nothing_analysed_exits_1_with_the_table(hub: FakeHub, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a GGUF file at all" * 10)
    result = lexitui("fit", MISSING_REPO, "/no/such/model.gguf", str(garbage))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    rows = _rows(result.stdout)
    assert " error " in rows[MISSING_REPO] and " error " in rows["/no/such/model.gguf"]
    assert " error " in rows[str(garbage)]
    assert result.stdout.strip().splitlines()[-1] == "0 of 3 analysed"


async def test_bad_list_file_and_no_target_are_one_line_errors(tmp_path: Path) -> None:
    absent = ("--from-file", str(tmp_path / "absent.txt"))
    for args in (absent, (), ("--search", "x", "--limit", "0"), ("a/b", "c/d", "--limit", "2")):
        result = lexitui("fit", *args)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("lexitui: "), result.stderr


async def test_a_lone_repo_id_is_a_one_row_table(hub: FakeHub) -> None:
    result = lexitui("fit", TINY_REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1 of 1 analysed"
    row = _rows(result.stdout)[TINY_REPO]
    assert " error " not in row and " none fits " not in row


async def test_a_refusing_network_is_a_row_per_model(hub: FakeHub) -> None:
    hub.rate_limit(times=1000)
    result = lexitui("fit", STARTER_REPO, TINY_REPO)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    rows = _rows(result.stdout)
    for repo in (STARTER_REPO, TINY_REPO):
        assert " error " in rows[repo] and "rate-limiting" in rows[repo]
