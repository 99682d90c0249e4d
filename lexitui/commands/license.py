"""``lexitui license``: the user's edition (status, install) and the operator's tools (keygen,
issue).

An operator runs ``keygen`` once, installs the public key it prints as the machine's license
authority, then ``issue``s a license per person; each person ``install``s theirs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
from pathlib import Path

from lexitui.config import Paths
from lexitui.editions.authority import authority_path, machine_id
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.license_file import License, LicenseError, key_id, sign
from lexitui.editions.service import LicenseService, license_path
from lexitui.editions.tiers import Limits, Tier

PRIVATE_KEY_FILE = "authority.key"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("license", help="show, install or issue edition licenses")
    sub = parser.add_subparsers(dest="license_command", metavar="ACTION", required=True)

    status = sub.add_parser("status", help="this user's tier, and why")
    status.add_argument("--json", action="store_true", help="print it as JSON")
    status.set_defaults(func=run_status)

    install = sub.add_parser("install", help="verify a license file and make it yours")
    install.add_argument("file", type=Path)
    install.set_defaults(func=run_install)

    keygen = sub.add_parser("keygen", help="(operator) make a license authority's key pair")
    keygen.add_argument("dir", type=Path, help="folder for the private key (kept 0600)")
    keygen.set_defaults(func=run_keygen)

    issue = sub.add_parser("issue", help="(operator) sign a license for one person")
    issue.add_argument("--key", type=Path, required=True, help="the authority's private key")
    issue.add_argument("--tier", required=True, choices=[t.value for t in Tier])
    issue.add_argument("--to", required=True, dest="licensee", help="who the license is for")
    issue.add_argument("--expires", type=dt.date.fromisoformat, help="last valid day, YYYY-MM-DD")
    issue.add_argument("--grace-days", type=int, default=7, help="days of use after expiry")
    issue.add_argument(
        "--machine",
        nargs="?",
        const="this",
        help="bind it to this machine, or to the machine id `license status` printed there",
    )
    issue.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=N",
        help=f"override a limit ({', '.join(Limits.names())}); N may be 'unlimited'",
    )
    issue.add_argument("--out", type=Path, help="write the license here instead of printing it")
    issue.set_defaults(func=run_issue)


def _status_text(ent: Entitlements) -> str:
    lines = [f"Tier      {ent.shown_tier}"]
    if ent.licensee:
        lines.append(f"Licensee  {ent.licensee}")
    if ent.expires:
        lines.append(f"Expires   {ent.expires}")
    lines.append(f"Why       {ent.reason}")
    if ent.managed:
        for name, value in ent.limits.as_dict().items():
            lines.append(f"  {name:<18} {'unlimited' if value is None else value}")
    lines.append(f"Machine   {machine_id()}")
    return "\n".join(lines)


async def run_status(args: argparse.Namespace) -> int:
    ent = LicenseService(Paths.from_env()).entitlements()
    if args.json:
        print(json.dumps({**ent.as_json(), "machine": machine_id()}, indent=2))
    else:
        print(_status_text(ent))
    return 0


async def run_install(args: argparse.Namespace) -> int:
    paths = Paths.from_env()
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LicenseError(f"cannot read {args.file}: {exc}") from None
    license = LicenseService(paths).check(text)
    target = license_path(paths)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    os.chmod(partial, 0o600)
    partial.replace(target)  # the old license stays whole until the new one is complete
    print(f"Installed: {license.tier.title} for {license.licensee} ({target})")
    return 0


async def run_keygen(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    private = Ed25519PrivateKey.generate()
    target: Path = args.dir / PRIVATE_KEY_FILE
    args.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        # O_EXCL: never overwrite a key that already signed licenses.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LicenseError(f"{target} already exists; keep it, or move it away first") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    print(f"Private key (keep it secret): {target}")
    print(f"Key id: {key_id(private.public_key())}")
    print(f"Install this public key as {authority_path()}, owned by root, mode 0644:")
    print(public.decode(), end="")
    return 0


def _limit_overrides(items: list[str]) -> dict[str, int | None]:
    overrides: dict[str, int | None] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in Limits.names():
            raise LicenseError(f"--limit {item!r}: expected NAME=N, NAME one of {Limits.names()}")
        if value == "unlimited":
            overrides[name] = None
        elif value.isdigit():
            overrides[name] = int(value)
        else:
            raise LicenseError(f"--limit {item!r}: N must be a whole number or 'unlimited'")
    return overrides


async def run_issue(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        private = load_pem_private_key(args.key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise LicenseError(f"cannot read the private key {args.key}: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise LicenseError(f"{args.key} is not an Ed25519 private key")
    if args.grace_days < 0:
        raise LicenseError("--grace-days cannot be negative")
    license = License(
        licensee=args.licensee,
        tier=Tier(args.tier),
        limits=_limit_overrides(args.limit),
        issued=dt.datetime.now(dt.UTC).date(),
        expires=args.expires,
        grace_days=args.grace_days,
        machine=machine_id() if args.machine == "this" else args.machine,
        key_id=key_id(private.public_key()),
    )
    text = sign(license, private)
    if args.out is None:
        print(text, end="")
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"Wrote {license.tier.title} license for {license.licensee} to {args.out}")
    return 0
