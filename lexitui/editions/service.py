"""``LicenseService``: the one place that decides a user's tier, as an immutable record.

Unmanaged (no authority installed): everything is open and the tier shows as "unmanaged".
Managed: the user's license file decides; anything wrong with it leaves them at Core, with the
reason in words. Nothing else reads the tier: callers ask the ``Entitlements``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lexitui.config import Paths
from lexitui.editions.authority import Authority, load_authority, machine_id
from lexitui.editions.entitlements import Entitlements
from lexitui.editions.tiers import TIER_LIMITS, UNLIMITED, Tier

if TYPE_CHECKING:
    from lexitui.editions.license_file import License

LICENSE_FILE = "license.json"


def license_path(paths: Paths) -> Path:
    """Where ``lexitui license install`` keeps the user's license."""
    return paths.config_dir / LICENSE_FILE


def _utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class LicenseService:
    """Builds the ``Entitlements`` from the installed authority and the user's license."""

    def __init__(
        self,
        paths: Paths,
        *,
        today: Callable[[], dt.date] = _utc_today,
        this_machine: Callable[[], str] = machine_id,
    ) -> None:
        self._paths = paths
        self._today = today
        self._this_machine = this_machine

    def entitlements(self) -> Entitlements:
        authority = load_authority()
        if authority.public_key is None and authority.refusal is None:
            return Entitlements(
                Tier.ENTERPRISE,
                None,
                f"no license authority is installed ({authority.path}): every feature is open",
                managed=False,
                limits=UNLIMITED,
            )
        if authority.refusal is not None:  # installed but untrustworthy: closed, never open
            return _core(authority.refusal)
        # Only a managed machine pays for the signature code's imports.
        from lexitui.editions.license_file import LicenseError

        path = license_path(self._paths)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _core(f"no license is installed ({path})")
        except (OSError, UnicodeDecodeError) as exc:
            return _core(f"the license {path} cannot be read: {exc}")
        try:
            license = self.check(text, authority)
        except LicenseError as exc:
            return _core(str(exc))
        return Entitlements(
            license.tier,
            license.licensee,
            f"licensed to {license.licensee}",
            managed=True,
            limits=TIER_LIMITS[license.tier].overridden(license.limits),
            expires=license.expires,
        )

    def check(self, text: str, authority: Authority | None = None) -> License:
        """The license in ``text`` if it holds on this machine today; ``LicenseError`` if not."""
        from lexitui.editions.license_file import LicenseError, verify

        authority = load_authority() if authority is None else authority
        if authority.refusal is not None:
            raise LicenseError(authority.refusal)
        if authority.public_key is None:
            raise LicenseError(f"no license authority is installed ({authority.path})")
        license = verify(text, authority.public_key)
        today = self._today()
        if today < license.issued:
            raise LicenseError(
                f"the clock ({today}) is before the license's issue date ({license.issued})"
            )
        if license.expires is not None:
            last_day = license.expires + dt.timedelta(days=license.grace_days)
            if today > last_day:
                raise LicenseError(
                    f"the license expired on {license.expires}"
                    f" ({license.grace_days} grace days ended {last_day})"
                )
        if license.machine is not None and license.machine != self._this_machine():
            raise LicenseError(f"the license is for another machine ({license.machine})")
        return license


def _core(reason: str) -> Entitlements:
    return Entitlements(Tier.CORE, None, reason, managed=True, limits=TIER_LIMITS[Tier.CORE])


def user_entitlements(paths: Paths | None = None) -> Entitlements:
    """This user's entitlements, for a command that builds no ``Services`` (``lexitui fit``,
    ``engine build``, ``backend add``)."""
    return LicenseService(paths or Paths.from_env()).entitlements()
