"""Whether a model's license allows commercial use, and what strings come attached.

A documented allowlist of the license ids the Hub uses (``license:`` tags, card ``license``):

* permissive (Apache-2.0, MIT, BSD, ISC, Unlicense, CC0, CC-BY, MPL): commercial use, no
  restrictions listed beyond attribution where the license asks for it;
* copyleft (GPL/LGPL/AGPL, CC-BY-SA): commercial use, derived work keeps the license;
* community and responsible-AI licenses (Llama 2/3.x/4, Gemma, Qwen, DeepSeek, OpenRAIL):
  commercial use **with** restrictions, listed;
* non-commercial (CC-BY-NC-*, research-only, Mistral's MNPL, Apple's sample-code license): no;
* anything else, ``other`` without a name, or no license: not allowed, because unknown.

This is guidance for a badge, not legal advice; the restriction text says to read the card.
"""

from __future__ import annotations

from dataclasses import dataclass

PERMISSIVE = frozenset(
    [
        "apache-2.0",
        "mit",
        "bsd",
        "bsd-2-clause",
        "bsd-3-clause",
        "bsd-3-clause-clear",
        "isc",
        "unlicense",
        "cc0-1.0",
        "cc-by-2.0",
        "cc-by-3.0",
        "cc-by-4.0",
        "mpl-2.0",
        "afl-3.0",
        "bsl-1.0",
        "zlib",
        "postgresql",
        "wtfpl",
    ]
)
COPYLEFT = frozenset(
    [
        "gpl",
        "gpl-2.0",
        "gpl-3.0",
        "lgpl",
        "lgpl-2.1",
        "lgpl-3.0",
        "lgpl-lr",
        "agpl-3.0",
        "cc-by-sa-3.0",
        "cc-by-sa-4.0",
        "odbl",
    ]
)
META = ("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4")
COMMUNITY: dict[str, tuple[str, ...]] = {
    **{
        name: (
            "Meta's community license: services with over 700 million monthly active users "
            "need a separate license from Meta",
            "Meta's acceptable use policy applies",
        )
        for name in META
    },
    "gemma": ("Gemma terms of use: the prohibited use policy applies",),
    "qwen": ("Qwen license: over 100 million monthly active users need a license from Alibaba",),
    "deepseek": ("DeepSeek license: use-based restrictions apply",),
    "openrail": ("OpenRAIL: use-based restrictions apply",),
    "openrail++": ("OpenRAIL++: use-based restrictions apply",),
    "creativeml-openrail-m": ("CreativeML OpenRAIL-M: use-based restrictions apply",),
    "bigscience-openrail-m": ("BigScience OpenRAIL-M: use-based restrictions apply",),
    "bigscience-bloom-rail-1.0": ("BigScience RAIL: use-based restrictions apply",),
    "bigcode-openrail-m": ("BigCode OpenRAIL-M: use-based restrictions apply",),
}
NON_COMMERCIAL_PREFIXES = ("cc-by-nc", "research", "mnpl", "mistral-research", "apple-")
NON_COMMERCIAL = frozenset({"apple-ascl", "mnpl", "llama-research", "fair-noncommercial"})


@dataclass(frozen=True)
class LicenseTerms:
    commercial_use: bool
    restrictions: tuple[str, ...] = ()


def license_terms(license_id: str | None) -> LicenseTerms:
    lid = (license_id or "").strip().lower()
    if not lid or lid in ("other", "unknown"):
        return LicenseTerms(False, ("license not stated: read the model card before any use",))
    if lid in PERMISSIVE:
        return LicenseTerms(True)
    if lid in COPYLEFT:
        return LicenseTerms(True, (f"{lid}: derived works must keep the same license",))
    if lid in COMMUNITY:
        return LicenseTerms(True, COMMUNITY[lid])
    if lid in NON_COMMERCIAL or lid.startswith(NON_COMMERCIAL_PREFIXES):
        return LicenseTerms(False, (f"{lid}: non-commercial use only",))
    return LicenseTerms(False, (f"{lid}: not a license lexitui knows; read it before use",))
