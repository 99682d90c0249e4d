"""``lexitui fit TARGET``: will this model fit here, where do its bytes go, how fast will it run.

TARGET is a local GGUF file, an installed model id (``lexitui ls``), or ``REPO/FILE`` on the
Hugging Face Hub, whose header is read with HTTP Range requests (nothing is downloaded). The
report is the memory breakdown per device, the placement (mode, GPU layers, context), the level,
the warnings and a tokens/s estimate; ``--json`` prints it as one object. Several targets, Hub
repo ids, ``--from-file`` or ``--search`` give one table instead (``fit_bulk``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexitui.commands.rpc import add_rpc_options
from lexitui.commands.runtime_options import slot_count
from lexitui.discovery.compatibility import CompatibilityAnalyzer
from lexitui.discovery.compatibility_text import level_word
from lexitui.discovery.fit_rules import check_fit
from lexitui.discovery.llama_buffers import KV_BYTES_PER_ELEMENT
from lexitui.discovery.model_facts import ModelFacts
from lexitui.domain.discovery import InferenceConfig, ModelVariant, VariantCompatibility
from lexitui.domain.enums import CompatibilityWarningType, ModelFormat
from lexitui.domain.hardware import HardwareCapabilities, to_json_dict
from lexitui.domain.slots import context_per_request, context_words
from lexitui.domain.units import MIB
from lexitui.editions.service import user_entitlements
from lexitui.gguf.errors import GgufError
from lexitui.hardware.unused_gpu import unused_gpu_note

Detect = Callable[[], Awaitable[HardwareCapabilities]]


class FitTargetError(LookupError):
    """TARGET names nothing we can read; the message says what was tried."""


@dataclass(frozen=True)
class Target:
    facts: ModelFacts
    variant: ModelVariant
    where: str  # the path or URL the header came from


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "fit", help="will a model fit: memory per device, GPU layers, context, speed"
    )
    parser.add_argument(
        "target",
        nargs="*",
        help="a GGUF path, an installed model id, or REPO/FILE.gguf; several, or Hub repo ids "
        "(owner/name), give one table",
    )
    parser.add_argument(
        "--from-file", metavar="LIST", help="analyse the models listed one a line (- for stdin)"
    )
    parser.add_argument("--search", metavar="QUERY", help="analyse a Hugging Face search's models")
    parser.add_argument("--limit", type=int, help="models a --search takes (default 10)")
    parser.add_argument("--ctx", type=int, help="context length (default: longest that fits)")
    parser.add_argument("--gpu-layers", type=int, help="layers to offload (default: most that fit)")
    parser.add_argument(
        "--kv-type", default="f16", choices=sorted(KV_BYTES_PER_ELEMENT), help="KV cache type"
    )
    parser.add_argument(
        "--parallel",
        type=slot_count,
        metavar="N",
        help="requests answered at once; they share the context (default: [runtime] parallel)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (a list for several models)"
    )
    add_rpc_options(parser)
    parser.set_defaults(func=cmd_fit)


def configured_parallel() -> int:
    """``[runtime] parallel``: the slots a load gets unless it asks for its own."""
    from lexitui.config import Paths, load_config
    from lexitui.runtime.settings import RuntimeSettings

    return RuntimeSettings.from_config(load_config(Paths.from_env())).parallel


async def detect_hardware() -> HardwareCapabilities:
    from lexitui.config import Paths
    from lexitui.hardware.detector import HardwareDetector
    from lexitui.hardware.settings import load_hardware_settings

    detector = HardwareDetector(settings=load_hardware_settings(Paths.from_env()))
    try:
        return await detector.detect()
    finally:
        detector.close()


async def cmd_fit(args: argparse.Namespace, *, detect: Detect = detect_hardware) -> int:
    bad_ctx = args.ctx is not None and args.ctx < 1
    if bad_ctx or (args.gpu_layers is not None and args.gpu_layers < -1):
        print("lexitui: --ctx must be positive and --gpu-layers -1 or more", file=sys.stderr)
        return 1
    from lexitui.commands.fit_bulk import cmd_fit_bulk, is_bulk

    bulk = is_bulk(args)
    if bulk and not (args.target or args.from_file is not None or args.search is not None):
        print("lexitui: fit needs a TARGET, --from-file LIST or --search QUERY", file=sys.stderr)
        return 1
    if not bulk:
        check_fit(user_entitlements(), 1)  # before any header is read
        try:
            target = await resolve_target(args.target[0])
        except (GgufError, FitTargetError, ValueError) as exc:
            print(f"lexitui: {exc}", file=sys.stderr)
            return 1
        if args.rpc or args.rpc_free:
            from lexitui.commands.rpc import print_split

            return await print_split(args, target)
    hardware = await detect()
    analyzer = CompatibilityAnalyzer(hardware)  # plans with the GPUs an engine can drive
    note = unused_gpu_note(hardware.gpus)
    parallel = args.parallel or configured_parallel()
    pinned = args.ctx is not None or args.gpu_layers is not None or args.kv_type != "f16"
    config = (
        InferenceConfig(
            gpu_layers=-1 if args.gpu_layers is None else args.gpu_layers,
            context_length=args.ctx,
            kv_cache_type=args.kv_type,
            parallel=parallel,
        )
        if pinned or parallel > 1
        else None
    )
    if bulk:
        return await cmd_fit_bulk(args, analyzer, config)
    fit = await analyzer.analyze_variant(
        target.variant, target.facts, config, choose_gpu_layers=args.gpu_layers is None
    )
    if args.json:
        print(json.dumps(report_json(target, fit, note), indent=2))
    else:
        print(render_text(target, fit, note))
    return 0


# --- targets ---------------------------------------------------------------------------------


async def resolve_target(target: str) -> Target:
    from lexitui.gguf.local import read_local_header

    path = Path(target).expanduser()
    if not path.is_file() and looks_like_hub_file(target):
        return await _remote(target)
    if not path.is_file():
        path = await _installed_path(target)
    header = await asyncio.to_thread(read_local_header, path)
    return _target(ModelFacts.from_gguf_header(header), path.name, path.stat().st_size, str(path))


def looks_like_hub_file(target: str) -> bool:
    parts = target.split("/")
    return len(parts) >= 3 and all(parts) and target.lower().endswith(".gguf")


def hub_url(target: str, environ: dict[str, str] | None = None) -> str:
    from lexitui.discovery.hf_settings import resolve_endpoint

    owner, name, *file = target.split("/")
    return f"{resolve_endpoint(None, environ)}/{owner}/{name}/resolve/main/{'/'.join(file)}"


async def _remote(target: str) -> Target:
    from lexitui.gguf.remote import read_remote_header

    url = hub_url(target)
    token = os.environ.get("HF_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    remote = await asyncio.to_thread(read_remote_header, url, headers=headers)
    size = remote.total_size or remote.header.file_size or remote.header.tensor_bytes
    facts = ModelFacts.from_gguf_header(remote.header)
    return _target(facts, target.rsplit("/", 1)[-1], size, url)


async def _installed_path(model_id: str) -> Path:
    from lexitui.config import Paths
    from lexitui.storage.starter import STARTER_ID, starter_model_path
    from lexitui.store import Store
    from lexitui.store.installed_models import ModelNotFound, ModelRegistry

    starter = starter_model_path()
    if model_id == STARTER_ID and starter is not None:
        return starter  # known even before the app has registered it
    store = Store(Paths.from_env().database)
    await store.open()
    try:
        model = await ModelRegistry(store).get(model_id)
    except (ModelNotFound, ValueError) as exc:
        raise FitTargetError(
            f"{model_id!r} is not a file, an installed model or REPO/FILE.gguf ({exc})"
        ) from None
    finally:
        await store.close()
    return Path(model.path)


def _target(facts: ModelFacts, name: str, size: int, where: str) -> Target:
    variant = ModelVariant(
        variant_id=name,
        filename=name,
        format=ModelFormat.GGUF,
        size_bytes=size,
        quantization_label=facts.file_type,
    )
    return Target(facts, variant, where)


# --- output ----------------------------------------------------------------------------------


def render_text(target: Target, fit: VariantCompatibility, engine_note: str | None = None) -> str:
    """``engine_note``: why the machine's GPU goes unused; it replaces the generic no-GPU line."""
    facts = target.facts
    lines = [
        f"Model    {target.where}",
        f"         {facts.architecture}, {facts.parameter_count / 1e6:,.0f}M parameters, "
        f"{facts.n_layers} layers, {facts.file_type or '?'}, trained context "
        f"{facts.context_length or '?'} ({facts.basis})",
        "",
    ]
    if fit.breakdown is not None:
        lines += fit.breakdown.lines()
        reclaimable = fit.breakdown.reclaimable_ram_bytes
        if reclaimable:
            lines.append(
                f"  of which {reclaimable / MIB:,.1f} MiB are file pages the kernel can "
                "reclaim (originals of repacked weights)"
            )
        lines.append("")
    perf = fit.performance
    lines += [
        f"Level    {level_word(fit.level)}",
        f"Mode     {fit.recommended_mode.value if fit.recommended_mode else '?'}, "
        f"{fit.recommended_gpu_layers} GPU layers "
        f"(of {facts.n_layers} + output), {_context(fit)}",
    ]
    if perf is not None:
        lines.append(
            f"Speed    ~{perf.tokens_per_second_expected:.1f} tokens/s "
            f"({perf.tokens_per_second_min:.1f}-{perf.tokens_per_second_max:.1f}, confidence "
            f"{perf.confidence_level:.2f}); load ~{perf.estimated_load_seconds:.1f} s"
        )
    lines.append(f"Why      {fit.reason}")
    if engine_note:
        lines.append(f"{'WARNING':<8} {engine_note}")
    for warning in fit.warnings:
        if engine_note and warning.type is CompatibilityWarningType.NO_GPU_ACCELERATION:
            continue
        tip = f" — {warning.suggestion}" if warning.suggestion else ""
        lines.append(f"{warning.severity.value.upper():<8} {warning.message}{tip}")
    return "\n".join(lines)


def _context(fit: VariantCompatibility) -> str:
    parallel = fit.breakdown.parallel if fit.breakdown is not None else 1
    return context_words(fit.recommended_context_length or 0, parallel)


def report_json(
    target: Target, fit: VariantCompatibility, engine_note: str | None = None
) -> dict[str, Any]:
    data = fit.to_json_dict()
    data["engine_note"] = engine_note
    data["target"] = target.where
    data["facts"] = {
        k: v
        for k, v in to_json_dict(target.facts).items()
        if k not in ("layer_bytes", "layer_expert_bytes")
    }
    data["breakdown_lines"] = fit.breakdown.lines() if fit.breakdown else []
    parallel = fit.breakdown.parallel if fit.breakdown else 1
    data["parallel"] = parallel
    data["context_per_request"] = context_per_request(fit.recommended_context_length or 0, parallel)
    return data
