"""How a fit verdict reads on screen: a badge per model, a row per variant, the card summary.

Every text that came from a registry goes through ``markup_safe`` here; the colours also carry
a word ("fits", "tight", "no"), so the verdict survives ``NO_COLOR`` and 16-colour terminals.
"""

from __future__ import annotations

from lexitui.discovery.ollama_browse import library_facts
from lexitui.discovery.quant_names import shown_label
from lexitui.discovery.service import FitBadge, ModelDetails
from lexitui.domain.discovery import SearchFacet, VariantCompatibility
from lexitui.domain.enums import CompatibilityLevel
from lexitui.domain.units import format_bytes
from lexitui.ui.text import markup_safe

LEVEL_STYLE = {
    CompatibilityLevel.OPTIMAL: ("green", "fits"),
    CompatibilityLevel.COMFORTABLE: ("green", "fits"),
    CompatibilityLevel.CONSTRAINED: ("yellow", "tight"),
    CompatibilityLevel.MARGINAL: ("yellow", "tight"),
    CompatibilityLevel.INCOMPATIBLE: ("red", "no"),
}


def level_cell(level: CompatibilityLevel | None) -> str:
    if level is None:
        return "[dim]?[/]"
    colour, word = LEVEL_STYLE[level]
    return f"[{colour}]{word}[/]"


def badge_cell(badge: FitBadge) -> str:
    return level_cell(badge.level)


# Sizes in a table cell are written as everywhere else ("93.9 MiB"); the table fits the column.


def variant_cells(fit: VariantCompatibility) -> tuple[str, ...]:
    variant = fit.variant
    label = shown_label(variant)
    if len(variant.files) > 1:
        label += f" ({len(variant.files)} parts)"
    size = format_bytes(variant.size_bytes)
    if fit.level is None:  # its header could not be read: no memory or speed to show either
        return (markup_safe(label), size, "[dim]unknown[/]", "?", "?")
    perf = fit.performance
    speed = "?" if perf is None else f"{perf.tokens_per_second_expected:.0f}"
    if perf is not None and perf.measured:  # the profiler's figure for this very file
        speed += " measured"
    memory = format_bytes(perf.estimated_ram_usage if perf else variant.estimated_ram_bytes)
    if perf is not None and perf.estimated_vram_usage:
        memory = f"{format_bytes(perf.estimated_vram_usage)} GPU"
    return (markup_safe(label), size, level_cell(fit.level), memory, speed)


def details_text(details: ModelDetails) -> str:
    model = details.model
    lines = [f"[b]{markup_safe(model.id)}[/b]"]
    if model.description:
        lines.append(markup_safe(model.description, 300))
    facts = [model.architecture, model.parameter_count, model.pipeline_tag]
    known = " · ".join(markup_safe(f) for f in facts if f)
    if known:
        lines.append(known)
    listed = library_facts(model)
    if listed:
        lines.append(markup_safe(listed, 300))
    licence = markup_safe(model.license or "no license stated")
    use = "commercial use allowed" if model.commercial_use_allowed else "no commercial use"
    lines.append(f"License: {licence} ({use})")
    lines.extend(f"[yellow]{markup_safe(note, 600)}[/]" for note in details.notes)
    if details.summary:
        lines.append(markup_safe(details.summary, 1000))
    return "\n".join(lines)


# The facets worth a glance under the results; the rest are in ``lexitui search --json``.
SHOWN_FACETS = ("quantization", "license", "author")


def facets_text(facets: tuple[SearchFacet, ...], per_facet: int = 3) -> str:
    by_name = {facet.name: facet for facet in facets}
    parts = []
    for name in SHOWN_FACETS:
        facet = by_name.get(name)
        if facet is not None and facet.values:
            top = ", ".join(f"{markup_safe(v.value)} {v.count}" for v in facet.values[:per_facet])
            parts.append(f"{name}: {top}")
    return " · ".join(parts)
