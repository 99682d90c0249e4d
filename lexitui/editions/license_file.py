"""A license: a JSON payload signed with the authority's Ed25519 key, kept as text.

The file is a small JSON envelope ``{"format", "alg", "key_id", "payload", "signature"}`` whose
payload and signature are base64. The signature covers the payload's exact bytes: verification
never re-serialises the JSON, so a payload rewritten with the same meaning is a forgery too.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lexitui.editions.tiers import Tier, check_overrides

FORMAT = 1
ALG = "ed25519"


class LicenseError(Exception):
    """A license (or a key) that cannot be used, with the reason in words."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key, naming which authority signed a license."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class License:
    """A verified license's payload."""

    licensee: str
    tier: Tier
    limits: dict[str, int | None]
    issued: dt.date
    expires: dt.date | None
    grace_days: int
    machine: str | None
    key_id: str

    def to_payload(self) -> dict[str, Any]:
        return {
            "licensee": self.licensee,
            "tier": self.tier.value,
            "limits": dict(self.limits),
            "issued": self.issued.isoformat(),
            "expires": None if self.expires is None else self.expires.isoformat(),
            "grace_days": self.grace_days,
            "machine": self.machine,
            "key_id": self.key_id,
        }

    @classmethod
    def from_payload(cls, data: object) -> License:
        if not isinstance(data, dict):
            raise LicenseError("the license's payload is not an object")
        try:
            licensee, key = data["licensee"], data["key_id"]
            grace, machine, expires = data["grace_days"], data["machine"], data["expires"]
            if not isinstance(licensee, str) or not isinstance(key, str):
                raise ValueError("licensee and key_id must be text")
            if type(grace) is not int or grace < 0:
                raise ValueError("grace_days must be a non-negative integer")
            if machine is not None and not isinstance(machine, str):
                raise ValueError("machine must be text or null")
            return cls(
                licensee=licensee,
                tier=Tier.parse(str(data["tier"])),
                limits=check_overrides(data["limits"]),
                issued=dt.date.fromisoformat(str(data["issued"])),
                expires=None if expires is None else dt.date.fromisoformat(str(expires)),
                grace_days=grace,
                machine=machine,
                key_id=key,
            )
        except KeyError as exc:
            raise LicenseError(f"the license's payload lacks {exc.args[0]!r}") from None
        except ValueError as exc:
            raise LicenseError(f"the license's payload is invalid: {exc}") from None


def sign(license: License, private_key: Ed25519PrivateKey) -> str:
    """The license file's text for ``license``, signed with ``private_key``."""
    payload = json.dumps(license.to_payload(), sort_keys=True).encode()
    envelope = {
        "format": FORMAT,
        "alg": ALG,
        "key_id": license.key_id,
        "payload": base64.b64encode(payload).decode(),
        "signature": base64.b64encode(private_key.sign(payload)).decode(),
    }
    return json.dumps(envelope, indent=2) + "\n"


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise LicenseError(f"the license's {what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise LicenseError(f"the license's {what} is not base64") from None


def verify(text: str, public_key: Ed25519PublicKey) -> License:
    """The license in ``text`` if ``public_key`` signed it; ``LicenseError`` otherwise.

    Only the signature is checked here; dates and machine are the service's to judge."""
    try:
        envelope = json.loads(text)
    except ValueError:
        raise LicenseError("the license file is not JSON") from None
    if not isinstance(envelope, dict):
        raise LicenseError("the license file is not a license")
    if envelope.get("format") != FORMAT:
        raise LicenseError(f"unsupported license format {envelope.get('format')!r}")
    if envelope.get("alg") != ALG:
        raise LicenseError(f"unsupported signature algorithm {envelope.get('alg')!r}")
    expected = key_id(public_key)
    if envelope.get("key_id") != expected:
        raise LicenseError(
            f"signed by an unknown key {envelope.get('key_id')!r} (this machine trusts {expected})"
        )
    payload = _b64(envelope.get("payload"), "payload")
    signature = _b64(envelope.get("signature"), "signature")
    try:
        public_key.verify(signature, payload)
    except InvalidSignature:
        raise LicenseError("the license's signature does not match its content") from None
    try:
        data = json.loads(payload)
    except ValueError:
        raise LicenseError("the license's payload is not JSON") from None
    license = License.from_payload(data)
    if license.key_id != expected:  # the signed copy of the key id must agree with the envelope
        raise LicenseError("the license's key id does not match its signer")
    return license
