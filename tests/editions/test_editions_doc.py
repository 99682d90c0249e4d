"""docs/editions.md's table of gated actions is the code's table, row for row."""

from __future__ import annotations

from pathlib import Path

from lexitui.editions.entitlements import Entitlements
from lexitui.editions.tiers import REQUIRED_TIER, TIER_LIMITS, Action, Limits, Tier

DOC = Path(__file__).resolve().parents[2] / "docs" / "editions.md"


def documented_actions() -> dict[str, str]:
    """Action name -> lowest tier, from the rows of the "Gated actions" table."""
    section = DOC.read_text().split("## Gated actions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]
    return {cell[0]: cell[1] for cell in cells}


def test_every_action_is_documented_with_its_tier() -> None:
    expected = {action.value: REQUIRED_TIER[action].title for action in Action}
    assert documented_actions() == expected


def test_each_tier_allows_exactly_the_rows_at_or_below_it() -> None:
    for tier in Tier:
        ent = Entitlements(tier, "ann", "", managed=True, limits=TIER_LIMITS[tier])
        for name, lowest in documented_actions().items():
            action = Action(name)
            allowed = tier.rank >= Tier.parse(lowest.lower()).rank
            assert ent.allows(action) is allowed, (tier, name)
            if not allowed:
                assert ent.unlocking_tier(action).title == lowest


def test_the_limits_are_the_roadmaps() -> None:
    assert TIER_LIMITS[Tier.WRITERPRO] == Limits(1, 1, 10, 3, 50 * 1000**3)
    assert TIER_LIMITS[Tier.TEAMS] == TIER_LIMITS[Tier.ENTERPRISE] == Limits()
    assert TIER_LIMITS[Tier.CORE] == Limits(0, 0, 0, 0, 0)
