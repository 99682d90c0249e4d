"""A license that was forged, edited, misplaced or outlived leaves the user at Core, with why."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lexitui.config import Paths
from lexitui.editions.license_file import License, key_id, sign
from lexitui.editions.service import LicenseService
from lexitui.editions.tiers import GB, Limits, Tier
from tests.editions.conftest import THIS_MACHINE, TODAY, IssueLicense

Install = Callable[[str], None]


def edited(text: str, change: Callable[[dict[str, object]], None]) -> str:
    envelope = json.loads(text)
    change(envelope)
    return json.dumps(envelope)


def flip_byte(field: str) -> Callable[[dict[str, object]], None]:
    def change(envelope: dict[str, object]) -> None:
        raw = bytearray(base64.b64decode(str(envelope[field])))
        raw[len(raw) // 2] ^= 0x01
        envelope[field] = base64.b64encode(bytes(raw)).decode()

    return change


def reserialised(envelope: dict[str, object]) -> None:
    """The same payload, meaning unchanged, written with other spacing and key order."""
    data = json.loads(base64.b64decode(str(envelope["payload"])))
    again = json.dumps(dict(reversed(list(data.items()))), indent=1).encode()
    assert json.loads(again) == data
    envelope["payload"] = base64.b64encode(again).decode()


def raised_tier(envelope: dict[str, object]) -> None:
    data = json.loads(base64.b64decode(str(envelope["payload"])))
    data["tier"] = "enterprise"
    envelope["payload"] = base64.b64encode(json.dumps(data, sort_keys=True).encode()).decode()


def test_a_valid_license_gives_its_tier_and_limits(
    service: LicenseService, issue: IssueLicense, install: Install
) -> None:
    install(issue(Tier.WRITERPRO, machine=THIS_MACHINE, expires=TODAY))
    ent = service.entitlements()
    assert (ent.tier, ent.managed, ent.licensee, ent.shown_tier) == (
        Tier.WRITERPRO,
        True,
        "ann",
        "WriterPro",
    )
    assert ent.limits == Limits(1, 1, 10, 3, 50 * GB)


def test_a_license_overrides_its_tiers_limits(
    service: LicenseService, issue: IssueLicense, install: Install
) -> None:
    install(issue(Tier.WRITERPRO, limits={"searches_per_day": 25, "storage_bytes": None}))
    limits = service.entitlements().limits
    assert (limits.searches_per_day, limits.storage_bytes, limits.loaded_models) == (25, None, 1)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (flip_byte("payload"), "signature does not match"),
        (flip_byte("signature"), "signature does not match"),
        (reserialised, "signature does not match"),
        (raised_tier, "signature does not match"),
        (lambda e: e.update(alg="none"), "unsupported signature algorithm 'none'"),
        (lambda e: e.update(signature=""), "signature does not match"),
        (lambda e: e.update(key_id="0123456789abcdef"), "unknown key"),
    ],
    ids=[
        "payload-byte",
        "signature-byte",
        "reserialised",
        "raised-tier",
        "alg-none",
        "no-signature",
        "unknown-key-id",
    ],
)
def test_an_edited_license_leaves_core(
    service: LicenseService,
    issue: IssueLicense,
    install: Install,
    change: Callable[[dict[str, object]], None],
    reason: str,
) -> None:
    install(edited(issue(Tier.WRITERPRO), change))
    ent = service.entitlements()
    assert (ent.tier, ent.managed) == (Tier.CORE, True)
    assert reason in ent.reason
    assert ent.limits == Limits(0, 0, 0, 0, 0)


def test_a_license_signed_by_another_key_is_unknown(
    service: LicenseService, issue: IssueLicense, install: Install
) -> None:
    install(issue(Tier.ENTERPRISE, key=Ed25519PrivateKey.generate()))
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert "unknown key" in ent.reason


def test_another_key_claiming_the_authoritys_key_id_fails_the_signature(
    service: LicenseService, issue: IssueLicense, install: Install
) -> None:
    genuine = json.loads(issue(Tier.WRITERPRO))
    forged = json.loads(issue(Tier.ENTERPRISE, key=Ed25519PrivateKey.generate()))
    forged["key_id"] = genuine["key_id"]
    install(json.dumps(forged))
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert "signature does not match" in ent.reason


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"machine": "machine-b"}, "for another machine"),
        ({"expires": TODAY - dt.timedelta(days=8), "grace_days": 7}, "expired on"),
        ({"expires": TODAY - dt.timedelta(days=1), "grace_days": 0}, "expired on"),
        ({"issued": TODAY + dt.timedelta(days=1)}, "before the license's issue date"),
    ],
    ids=["other-machine", "past-grace", "no-grace", "clock-before-issue"],
)
def test_a_license_that_does_not_hold_here_today_leaves_core(
    service: LicenseService,
    issue: IssueLicense,
    install: Install,
    kwargs: dict[str, object],
    reason: str,
) -> None:
    install(issue(Tier.TEAMS, **kwargs))
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert reason in ent.reason


def test_within_grace_days_the_license_still_holds(
    service: LicenseService, issue: IssueLicense, install: Install
) -> None:
    install(issue(Tier.TEAMS, expires=TODAY - dt.timedelta(days=7), grace_days=7))
    assert service.entitlements().tier is Tier.TEAMS


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"format": 1}', '{"format": 2}'])
def test_garbage_in_the_license_file_leaves_core(
    service: LicenseService, authority_key: object, install: Install, text: str
) -> None:
    install(text)
    ent = service.entitlements()
    assert (ent.tier, ent.managed) == (Tier.CORE, True)
    assert ent.reason


def test_no_license_on_a_managed_machine_is_core(
    service: LicenseService, authority_key: object
) -> None:
    ent = service.entitlements()
    assert (ent.tier, ent.managed, ent.shown_tier) == (Tier.CORE, True, "Core")
    assert "no license is installed" in ent.reason


def test_environment_and_config_claiming_a_tier_change_nothing(
    service: LicenseService,
    authority_key: object,
    paths: Paths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LEXITUI_TIER", "LEXITUI_LICENSE", "LEXITUI_EDITION", "LEXITUI_AUTHORITY"):
        monkeypatch.setenv(name, "enterprise")
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text('[license]\ntier = "enterprise"\nauthority = "none"\n')
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert "no license is installed" in ent.reason


def test_a_signed_key_id_that_disagrees_with_the_envelope_is_refused(
    service: LicenseService, authority_key: Ed25519PrivateKey, install: Install
) -> None:
    """The envelope's key id picks the key; the signed copy must name the same one."""
    license = License(
        licensee="ann",
        tier=Tier.ENTERPRISE,
        limits={},
        issued=TODAY,
        expires=None,
        grace_days=0,
        machine=None,
        key_id="someone-else",
    )
    envelope = json.loads(sign(license, authority_key))
    envelope["key_id"] = key_id(authority_key.public_key())
    install(json.dumps(envelope))
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert "key id does not match its signer" in ent.reason


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("tier", "platinum", "unknown tier"),
        ("limits", {"gpus": 4}, "unknown limit"),
        ("limits", {"loaded_models": -1}, "non-negative"),
        ("grace_days", "forever", "grace_days"),
        ("issued", "yesterday", "invalid"),
    ],
)
def test_a_signed_but_malformed_payload_is_refused(
    service: LicenseService,
    authority_key: Ed25519PrivateKey,
    install: Install,
    field: str,
    value: object,
    reason: str,
) -> None:
    data = {
        "licensee": "ann",
        "tier": "teams",
        "limits": {},
        "issued": TODAY.isoformat(),
        "expires": None,
        "grace_days": 0,
        "machine": None,
        "key_id": key_id(authority_key.public_key()),
        field: value,
    }
    payload = json.dumps(data).encode()
    install(
        json.dumps(
            {
                "format": 1,
                "alg": "ed25519",
                "key_id": data["key_id"],
                "payload": base64.b64encode(payload).decode(),
                "signature": base64.b64encode(authority_key.sign(payload)).decode(),
            }
        )
    )
    ent = service.entitlements()
    assert ent.tier is Tier.CORE
    assert reason in ent.reason
