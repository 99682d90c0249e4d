"""Only a root-owned authority nobody else can write makes a machine managed; anything less
installed there leaves the user at Core (never open), and nothing else counts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lexitui.config import Paths
from lexitui.editions import authority
from lexitui.editions.service import LicenseService
from lexitui.editions.tiers import UNLIMITED, Action, Tier
from tests.editions.conftest import IssueLicense

NOT_ROOT = 65534  # nobody


def test_no_authority_is_unmanaged_and_open(service: LicenseService, site_dir: Path) -> None:
    ent = service.entitlements()
    assert (ent.managed, ent.shown_tier, ent.limits) == (False, "unmanaged", UNLIMITED)
    assert "no license authority is installed" in ent.reason
    assert all(ent.allows(action) for action in Action)


def test_an_authority_in_the_users_config_does_not_count(
    service: LicenseService, site_dir: Path, paths: Paths
) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    pub = Ed25519PrivateKey.generate().public_key()
    (paths.config_dir / authority.AUTHORITY_FILE).write_bytes(
        pub.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert service.entitlements().managed is False


@pytest.mark.parametrize("mode", [0o666, 0o646, 0o664])
def test_an_authority_others_can_write_is_refused(
    service: LicenseService,
    issue: IssueLicense,
    install: object,
    site_dir: Path,
    mode: int,
) -> None:
    install(issue(Tier.ENTERPRISE))  # type: ignore[operator]
    (site_dir / authority.AUTHORITY_FILE).chmod(mode)
    ent = service.entitlements()
    assert (ent.tier, ent.managed) == (Tier.CORE, True)
    assert "is writable by others" in ent.reason


def test_an_authority_a_user_owns_is_refused(
    service: LicenseService,
    issue: IssueLicense,
    install: object,
    site_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(issue(Tier.ENTERPRISE))  # type: ignore[operator]
    pub = site_dir / authority.AUTHORITY_FILE
    if os.geteuid() == 0:
        os.chown(pub, NOT_ROOT, NOT_ROOT)
    else:  # unprivileged: the file is the test user's, so make the user's uid not root's
        monkeypatch.setattr(authority, "ROOT_UID", -1)
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert "is not owned by root" in ent.reason


def test_an_authority_in_a_folder_others_can_write_is_refused(
    service: LicenseService, issue: IssueLicense, install: object, site_dir: Path
) -> None:
    """Whoever can write the folder can replace the file, whatever the file's own mode."""
    install(issue(Tier.ENTERPRISE))  # type: ignore[operator]
    site_dir.chmod(0o777)
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert "is writable by others" in ent.reason


def test_an_authority_that_is_not_an_ed25519_key_is_refused(
    service: LicenseService, site_dir: Path
) -> None:
    pub = site_dir / authority.AUTHORITY_FILE
    pub.write_bytes(
        X25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    assert "not an Ed25519 key" in service.entitlements().reason
    pub.write_text("anything\n")
    ent = service.entitlements()
    assert (ent.tier, ent.managed) == (Tier.CORE, True)
    assert "not a public key" in ent.reason


def test_a_symlink_to_a_writable_key_is_judged_by_the_key(
    service: LicenseService,
    issue: IssueLicense,
    install: object,
    site_dir: Path,
    tmp_path: Path,
) -> None:
    install(issue(Tier.ENTERPRISE))  # type: ignore[operator]
    pub = site_dir / authority.AUTHORITY_FILE
    elsewhere = tmp_path / "writable.pub"
    shutil.move(pub, elsewhere)
    elsewhere.chmod(0o666)
    pub.symlink_to(elsewhere)
    assert "is writable by others" in service.entitlements().reason


def test_the_gate_names_the_tier_that_unlocks_an_action(
    service: LicenseService, issue: IssueLicense, install: object
) -> None:
    install(issue(Tier.WRITERPRO))  # type: ignore[operator]
    ent = service.entitlements()
    assert ent.allows(Action.GENERATE) and ent.allows(Action.DETECT_HARDWARE)
    assert not ent.allows(Action.COMPATIBILITY)
    assert ent.unlocking_tier(Action.COMPATIBILITY) is Tier.TEAMS
    assert not ent.allows(Action.BULK_ANALYSIS)
    assert ent.unlocking_tier(Action.BULK_ANALYSIS) is Tier.ENTERPRISE


def test_the_environment_cannot_move_the_authority(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # XDG_CONFIG_DIRS pointed at an empty folder would make a managed machine look unmanaged.
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path))
    assert not authority._site_config_dir().is_relative_to(tmp_path)
