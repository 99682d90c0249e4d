"""Editions: which tier a user runs at, from a license signed by the machine's operator.

``tiers`` holds the table (limits and the tier each gated action needs), ``license_file`` signs
and verifies licenses, ``authority`` finds the operator's public key, and ``service`` turns them
into one immutable ``Entitlements`` record that nothing else second-guesses.
"""
