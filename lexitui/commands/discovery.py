"""``lexitui search`` and ``lexitui show``: the Discover area without a terminal UI.

Registry text is printed through ``safe_text`` so a model card cannot send escape sequences to
the terminal (G7); ``--json`` prints the records' one JSON shape.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lexitui.discovery.compatibility_text import level_word
from lexitui.discovery.ollama_browse import capabilities_of, library_facts, sizes_of
from lexitui.discovery.quant_names import shown_label
from lexitui.discovery.service import DiscoveryService, FitBadge, ModelDetails
from lexitui.domain.discovery import ModelSearchQuery, RemoteModel
from lexitui.domain.enums import (
    ModelCategory,
    ModelFormat,
    ModelRegistryType,
    ModelSizeCategory,
    ModelSortOrder,
    QuantizationType,
)
from lexitui.domain.units import format_bytes
from lexitui.gguf.text import safe_text
from lexitui.services import Services

# The built-in registries by the names ``--registry`` takes (a configured one goes by its own).
BUILT_IN = {
    "huggingface": ModelRegistryType.HUGGING_FACE,
    "ollama": ModelRegistryType.OLLAMA_LIBRARY,
}


def _registry_option(parser: Any, *, configured: bool = False) -> None:
    also = ", or a [registries.NAME] of the config" if configured else ""
    parser.add_argument(
        "--registry",
        metavar="NAME" if configured else None,
        choices=None if configured else list(BUILT_IN),
        default="huggingface",
        help=f"where to look: huggingface (the Hub, the default), ollama (ollama.com){also}",
    )


def add_parser(sub: Any) -> None:
    search = sub.add_parser(
        "search", help="search Hugging Face or the Ollama library for models, with fit badges"
    )
    search.add_argument(
        "query", nargs="?", default=None, help="words to search for (none: trending/popular)"
    )
    _registry_option(search)
    search.add_argument("--author")
    search.add_argument("--base-model", help="e.g. meta-llama/Llama-3.1-8B")
    search.add_argument("--category", choices=[c.value for c in ModelCategory])
    search.add_argument("--max-size", choices=[s.value for s in ModelSizeCategory])
    search.add_argument("--format", action="append", choices=[f.value for f in ModelFormat])
    search.add_argument("--quant", action="append", choices=[q.value for q in QuantizationType])
    search.add_argument("--all-formats", action="store_true", help="not only GGUF repos")
    search.add_argument("--fits", action="store_true", help="only models that fit this machine")
    search.add_argument(
        "--sort", choices=[s.value for s in ModelSortOrder], default=ModelSortOrder.TRENDING
    )
    search.add_argument("--skip", type=int, default=0)
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=cmd_search)

    show = sub.add_parser("show", help="a model's card, license and variants with their fit")
    show.add_argument(
        "repo", help="a Hugging Face repo id (bartowski/Qwen2.5-7B-GGUF) or an Ollama name"
    )
    _registry_option(show, configured=True)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)


def query_from_args(args: argparse.Namespace) -> ModelSearchQuery:
    if args.limit <= 0 or args.skip < 0:
        raise argparse.ArgumentTypeError("--limit must be positive and --skip not negative")
    return ModelSearchQuery(
        query=args.query,
        author=args.author,
        base_model=args.base_model,
        category=ModelCategory(args.category) if args.category else None,
        max_size=ModelSizeCategory(args.max_size) if args.max_size else None,
        formats=tuple(ModelFormat(f) for f in args.format or ()),
        quantizations=tuple(QuantizationType(q) for q in args.quant or ()),
        only_gguf=None if args.all_formats else True,
        only_compatible=args.fits,
        sort=ModelSortOrder(args.sort),
        skip=args.skip,
        take=args.limit,
    )


async def _discovery() -> tuple[Services, DiscoveryService]:
    services = Services.build()
    await services.start()
    try:
        return services, services.discovery
    except BaseException:  # stopped, or the process would wait on what started
        await services.stop()
        raise


async def cmd_search(args: argparse.Namespace) -> int:
    query = query_from_args(args)
    kind = BUILT_IN[args.registry]
    services, discovery = await _discovery()
    try:
        result = await discovery.search(query, kind)
        # In result order, not by id: two registries may both have a model of one id.
        badges = [await discovery.badge(m) for m in result.models]
        several = bool(discovery.custom) and kind is ModelRegistryType.HUGGING_FACE
    finally:
        await services.stop()
    for gone in result.unavailable:
        print(
            f"lexitui: {safe_text(gone.registry, 40)} unavailable: {safe_text(gone.reason, 300)}",
            file=sys.stderr,
        )
    if args.json:
        out = result.to_json_dict()
        for model, badge in zip(out["models"], badges, strict=True):
            model["fit"] = badge.level.value if badge.level else None
        print(json.dumps(out, indent=2))
        return 0
    if result.cached_age_seconds is not None:
        print(f"(offline: results from the cache, {result.cached_age_seconds / 60:.0f} min old)")
    if not result.models:
        print("No models found.")
    for m, badge in zip(result.models, badges, strict=True):
        if kind is ModelRegistryType.OLLAMA_LIBRARY:
            print(library_line(m, _badge(badge)))
            continue
        # The registry's name only when there are several to tell apart.
        where = f"{safe_text(m.registry_name or '?', 14):<14} " if several else ""
        print(
            f"{_badge(badge):<6} {where}{safe_text(m.id, 60):<60} "
            f"{safe_text(m.parameter_count or '?', 8):>8} {m.downloads:>10,} dl"
        )
    return 0


def library_line(model: RemoteModel, badge: str) -> str:
    """One Ollama library result: name, sizes, pulls, capabilities, last update."""
    sizes = safe_text(", ".join(sizes_of(model)) or "?", 24)
    capabilities = safe_text(", ".join(capabilities_of(model)), 40)
    updated = f"updated {model.updated_at:%Y-%m-%d}" if model.updated_at else ""
    line = (
        f"{badge:<6} {safe_text(model.id, 40):<40} {sizes:<24} {model.downloads:>12,} pulls  "
        f"{capabilities:<20} {updated}"
    )
    return line.rstrip()


def _badge(badge: FitBadge) -> str:
    return badge.level.value[:6] if badge.level else "?"


async def cmd_show(args: argparse.Namespace) -> int:
    services, discovery = await _discovery()
    try:
        details = await discovery.details(args.repo, **_where(args.registry))
    finally:
        await services.stop()
    if args.json:
        print(json.dumps(details_json(details), indent=2))
    else:
        print(details_lines(details))
    return 0


def _where(registry: str | None) -> dict[str, Any]:
    """``details``' arguments for ``--registry``: a built-in by its name, else a configured one."""
    if registry is None or registry in BUILT_IN:
        return {"kind": BUILT_IN[registry or "huggingface"]}
    return {"registry_name": registry}


def details_json(details: ModelDetails) -> dict[str, Any]:
    return {
        "model": details.model.to_json_dict(),
        "variants": [v.to_json_dict() for v in details.variants],
        "compatibility": details.compatibility.to_json_dict() if details.compatibility else None,
        "notes": list(details.notes),
    }


def details_lines(details: ModelDetails) -> str:
    m = details.model
    use = "commercial use allowed" if m.commercial_use_allowed else "no commercial use"
    origin = f"  ({safe_text(m.registry_name, 40)})" if m.registry_name else ""
    lines = [
        safe_text(m.id, 120) + origin,
        f"  license: {safe_text(m.license or 'not stated', 60)} ({use})",
        f"  architecture: {safe_text(m.architecture or '?', 40)}  "
        f"parameters: {safe_text(m.parameter_count or '?', 12)}  "
        f"downloads: {m.downloads:,}  likes: {m.likes:,}",
    ]
    if m.registry is ModelRegistryType.OLLAMA_LIBRARY:
        if m.description:
            lines.append(f"  {safe_text(m.description, 300)}")
        lines.append(f"  {safe_text(library_facts(m), 300)}")
    lines += [f"  note: {safe_text(n, 300)}" for n in details.notes]
    if details.summary:
        lines.append(f"  {safe_text(details.summary, 300)}")
    lines.append("  variants:")
    for fit in details.variants:
        v = fit.variant
        label = shown_label(v)
        perf = fit.performance
        speed = f"{perf.tokens_per_second_expected:.0f} tok/s" if perf else "?"
        mode = fit.recommended_mode.value if fit.recommended_mode else "?"
        lines.append(
            f"    {safe_text(label, 20):<20} {format_bytes(v.size_bytes):>10}  "
            f"{level_word(fit.level):<12} {mode:<14} {speed}"
        )
    return "\n".join(lines)
