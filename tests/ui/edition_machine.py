"""A managed machine for the TUI's tests: a license authority installed in a test site-config
folder (``tests/editions/conftest.py``), and a license put in the test home before the app
builds its services."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static

from lexitui.config import Paths
from lexitui.editions import authority
from lexitui.editions.tiers import Tier
from lexitui.ui.app import LexituiApp
from lexitui.ui.shell.area_header import EditionPill
from tests.editions.conftest import (  # noqa: F401 (fixtures, for the modules that import these)
    IssueLicense,
    authority_key,
    install,
    issue,
    site_dir,
)
from tests.ui.hardware_machine import Machine, build_services
from tests.waiting import until


@pytest.fixture
def managed(
    site_dir: Path,  # noqa: F811
    authority_key: object,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """An authority installed; it counts when the test's own user owns it (root owns it on a
    real machine)."""
    monkeypatch.setattr(authority, "ROOT_UID", os.getuid())
    return site_dir


@pytest.fixture
def writerpro(
    managed: Path,
    issue: IssueLicense,  # noqa: F811
    install: Callable[[str], None],  # noqa: F811
) -> None:
    """A WriterPro license for ann, issued yesterday (the app reads the real clock)."""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    install(issue(Tier.WRITERPRO, issued=yesterday))


def laptop_app(paths: Paths, tmp_path: Path) -> LexituiApp:
    machine = Machine(ram_total_gib=16, ram_available_gib=12)
    return LexituiApp(build_services(paths, tmp_path / "root", "nvml_0_gpus.json", machine=machine))


def text_of(widget: Static) -> str:
    return str(widget.render())


def footer_descriptions(app: LexituiApp) -> dict[str, str]:
    return {
        (active.binding.id or ""): active.binding.description
        for active in app.screen.active_bindings.values()
    }


async def edition_pill(app: LexituiApp) -> EditionPill:
    await app.services_ready.wait()
    pill = app.screen.query_one("#edition-pill", EditionPill)
    await until(lambda: bool(text_of(pill)))
    return pill
