"""A license authority installed in a test site-config folder, and licenses signed by it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lexitui.config import Paths
from lexitui.editions import authority
from lexitui.editions.license_file import License, key_id, sign
from lexitui.editions.service import LicenseService, license_path
from lexitui.editions.tiers import Tier

TODAY = dt.date(2027, 3, 10)
THIS_MACHINE = "machine-a"


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The platform's site config folder, moved for this test only (no authority in it yet)."""
    folder = tmp_path / "site"
    folder.mkdir(mode=0o755)
    monkeypatch.setattr(authority, "SITE_CONFIG_DIR", folder)
    return folder


@pytest.fixture
def authority_key(site_dir: Path) -> Ed25519PrivateKey:
    """An authority installed as an operator would: root's file, mode 0644."""
    private = Ed25519PrivateKey.generate()
    pub = site_dir / authority.AUTHORITY_FILE
    pub.write_bytes(
        private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    pub.chmod(0o644)
    return private


IssueLicense = Callable[..., str]


@pytest.fixture
def issue(authority_key: Ed25519PrivateKey) -> IssueLicense:
    def make(
        tier: Tier = Tier.WRITERPRO,
        *,
        key: Ed25519PrivateKey | None = None,
        issued: dt.date = TODAY - dt.timedelta(days=30),
        expires: dt.date | None = None,
        grace_days: int = 7,
        machine: str | None = None,
        limits: dict[str, int | None] | None = None,
    ) -> str:
        signer = key or authority_key
        return sign(
            License(
                licensee="ann",
                tier=tier,
                limits=limits or {},
                issued=issued,
                expires=expires,
                grace_days=grace_days,
                machine=machine,
                key_id=key_id(signer.public_key()),
            ),
            signer,
        )

    return make


@pytest.fixture
def service(paths: Paths) -> LicenseService:
    return LicenseService(paths, today=lambda: TODAY, this_machine=lambda: THIS_MACHINE)


@pytest.fixture
def install(paths: Paths) -> Callable[[str], None]:
    """Put a license where ``lexitui license install`` would (without its checks)."""

    def put(text: str) -> None:
        target = license_path(paths)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    return put


@dataclass
class ManagedMachine:
    """A machine with a license authority installed in ``site_dir``, driven as a user would:
    ``lexitui`` subprocesses (through ``tests.editions.lexitui_managed``) in the test home."""

    site_dir: Path
    issue: IssueLicense
    paths: Paths

    def license(self, tier: Tier, **overrides: object) -> None:
        """Install a license issued yesterday (the subprocess reads the real clock)."""
        yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        target = license_path(self.paths)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.issue(tier, issued=yesterday, **overrides))

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "tests.editions.lexitui_managed", str(self.site_dir), *args]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=os.environ.copy(),
        )


@pytest.fixture
def managed(site_dir: Path, issue: IssueLicense, paths: Paths) -> ManagedMachine:
    return ManagedMachine(site_dir, issue, paths)
