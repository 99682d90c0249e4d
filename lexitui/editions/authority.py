"""The license authority: the operator's public key, installed system-wide.

Only a file in the platform's site config folder counts, and only when root owns it (and the
folder holding it) and nobody else may write either. Nothing a user controls - their config, an
environment variable - can name another key, or a user could sign their own licenses.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def _site_config_dir() -> Path:
    """The platform's site config folder, never moved by the environment.

    platformdirs follows ``XDG_CONFIG_DIRS`` on Linux, which any user can set: pointed at an
    empty folder it would make a managed machine look unmanaged, with everything open."""
    if sys.platform == "win32":  # the API call there reads no environment variable
        return Path(platformdirs.site_config_dir("lexitui"))
    if sys.platform == "darwin":
        return Path("/Library/Application Support/lexitui")
    return Path("/etc/xdg/lexitui")  # the XDG default, which XDG_CONFIG_DIRS would override


# Where an operator installs the public key. A constant (not a setting) on purpose; tests
# replace it in-process only.
SITE_CONFIG_DIR = _site_config_dir()
AUTHORITY_FILE = "authority.pub"
ROOT_UID = 0
_MAX_KEY_BYTES = 4096


def authority_path() -> Path:
    return SITE_CONFIG_DIR / AUTHORITY_FILE


@dataclass(frozen=True)
class Authority:
    """What the site config folder says: no authority (unmanaged), a usable key, or a refusal."""

    path: Path
    public_key: Ed25519PublicKey | None
    refusal: str | None = None


def _unsafe(st: os.stat_result, what: str) -> str | None:
    if st.st_uid != ROOT_UID:
        return f"{what} is not owned by root"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{what} is writable by others"
    return None


def load_authority() -> Authority:
    """The installed authority; ``public_key`` is None when there is none or it is refused."""
    path = authority_path()
    try:
        # Read through one descriptor and judge that same file, so it cannot be swapped between
        # the check and the read.
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return Authority(path, None)
    except OSError as exc:
        return Authority(path, None, f"the license authority {path} cannot be read: {exc}")
    try:
        refusal = _unsafe(os.fstat(fd), f"the license authority {path}") or _unsafe(
            os.stat(path.parent), f"the folder {path.parent}"
        )
        if refusal is not None:
            return Authority(path, None, refusal)
        data = os.read(fd, _MAX_KEY_BYTES)
    finally:
        os.close(fd)
    # Imported only on a managed machine: ~40 ms that an unmanaged start-up does without.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(data)
    except ValueError:
        return Authority(path, None, f"the license authority {path} is not a public key")
    if not isinstance(key, Ed25519PublicKey):
        return Authority(path, None, f"the license authority {path} is not an Ed25519 key")
    return Authority(path, key)


def machine_id() -> str:
    """This machine's identity for machine-bound licenses: a hash, not the raw system id."""
    import hashlib
    import socket
    import uuid

    raw = ""
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            raw = Path(candidate).read_text().strip()
        except OSError:
            continue
        if raw:
            break
    if not raw:
        raw = f"{socket.gethostname()}-{uuid.getnode():x}"
    return hashlib.sha256(f"lexitui:{raw}".encode()).hexdigest()[:24]
