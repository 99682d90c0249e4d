"""Snapshot plumbing: SVGs live in the top-level ``snapshots/`` folder, one file per test case.

Update them with ``pytest tests/ui --snapshot-update`` and look at every changed SVG before
committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_textual_snapshot import SVGImageExtension
from syrupy.assertion import SnapshotAssertion

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "snapshots"


class RootSnapshots(SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(SNAPSHOT_DIR / test_location.basename)


@pytest.fixture
def svg_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(RootSnapshots)
