"""What the Discover screen and ``lexitui search``/``show`` call: registries, analyzer, downloads.

Search results get a fit badge each without any extra request (from the parameter count the
registry reports); opening a model reads the real GGUF header of one variant over HTTP Range and
derives every other variant's shape from it, so the verdicts use real layer sizes at the cost of
one header read per model, not one per quantization.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from lexitui.discovery.bulk_fit import FitRow, analyse_all, row_from_model
from lexitui.discovery.compatibility import CompatibilityAnalyzer
from lexitui.discovery.compatibility_text import level_word
from lexitui.discovery.custom_registry import CustomRegistry
from lexitui.discovery.errors import ModelNotFoundError, RegistryError
from lexitui.discovery.fit_rules import no_verdict_reason
from lexitui.discovery.measured import MeasuredLookup, MeasuredSpeeds, speed_lookup
from lexitui.discovery.model_facts import ModelFacts
from lexitui.discovery.quant_names import parameter_count, quant_label
from lexitui.discovery.registry import ModelRegistry
from lexitui.discovery.search_all import labelled, search_together
from lexitui.discovery.search_quota import SearchQuota
from lexitui.domain.discovery import (
    ModelCompatibility,
    ModelSearchQuery,
    ModelSearchResult,
    ModelVariant,
    RemoteModel,
    UnavailableRegistry,
    VariantCompatibility,
)
from lexitui.domain.downloads import ModelDownload
from lexitui.domain.enums import CompatibilityLevel, ModelFormat, ModelRegistryType
from lexitui.domain.hardware import HardwareCapabilities
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.events import EventBus, ModelSearched
from lexitui.gguf.errors import GgufError, GgufFetchError
from lexitui.gguf.remote import read_remote_header
from lexitui.store import StoreError

# What a badge assumes when only the parameter count is known: the quant most people pick.
BADGE_BITS_PER_WEIGHT = 4.85  # Q4_K_M
PROBE_ATTEMPTS = 3


@dataclass(frozen=True)
class FitBadge:
    level: CompatibilityLevel | None
    detail: str


@dataclass(frozen=True)
class HeaderProbe:
    """One variant's real header: its facts, and where the tensor data starts in its file."""

    url: str
    facts: ModelFacts
    header_bytes: int


# A model's probe: the header read, the files whose header was refused (by URL), and a note.
Probed = tuple[HeaderProbe | None, dict[str, GgufError], str | None]


@dataclass(frozen=True)
class ModelDetails:
    model: RemoteModel
    variants: tuple[VariantCompatibility, ...]
    compatibility: ModelCompatibility | None
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> str | None:
        return self.compatibility.summary if self.compatibility else None


class DiscoveryService:
    def __init__(
        self,
        *,
        registries: Sequence[ModelRegistry],
        hardware: Callable[[], Awaitable[HardwareCapabilities]],
        start_download: Callable[[RemoteModel, ModelVariant], Awaitable[ModelDownload]],
        bus: EventBus,
        hub_token: Callable[[], str | None] = lambda: None,
        measured: MeasuredSpeeds | None = None,
        quota: SearchQuota | None = None,
        custom: Sequence[CustomRegistry] = (),
        entitlements: Callable[[], Entitlements] = lambda: OPEN,
    ) -> None:
        """``registries``: the first is the default; ``hub_token`` is sent only to the Hub;
        ``measured``: speeds measured here, which replace estimates for the same files;
        ``custom``: the configured registries, searched beside the default one."""
        self.registries = {r.type: r for r in registries}
        self.custom = {r.name: r for r in custom}
        self.default = registries[0].type
        self._hardware = hardware
        self._start_download = start_download
        self._bus = bus
        self._hub_token = hub_token
        self._measured = measured
        self._probes: dict[str, Probed] = {}
        self.quota = quota  # the editions' search rules; None (a part built alone) is open
        self._entitlements = entitlements  # fit verdicts are compatibility analysis (Teams)

    async def close(self) -> None:
        for registry in (*self.registries.values(), *self.custom.values()):
            aclose = getattr(registry, "aclose", None)
            if aclose is not None:
                await aclose()

    def registry(self, kind: ModelRegistryType | None = None) -> ModelRegistry:
        return self.registries[kind or self.default]

    def registry_named(self, name: str) -> ModelRegistry:
        """A registry by the name its results carry (``RemoteModel.registry_name``)."""
        if name in self.custom:
            if self.quota is not None:
                self.quota.require_custom()
            return self.custom[name]
        for registry in self.registries.values():
            if registry.name == name:
                return registry
        known = ", ".join([*self.custom, *(r.name for r in self.registries.values())])
        raise RegistryError(f"no registry named {name!r} (known: {known})")

    def limitations(self, kind: ModelRegistryType | None = None) -> tuple[str, ...]:
        """Plain sentences on what a registry cannot do (the Ollama library has no search)."""
        return tuple(getattr(self.registry(kind), "limitations", ()))

    async def analyzer(self) -> CompatibilityAnalyzer:
        return CompatibilityAnalyzer(await self._hardware())

    async def search(
        self, query: ModelSearchQuery, kind: ModelRegistryType | None = None
    ) -> ModelSearchResult:
        searched = kind or self.default
        if query.only_compatible:
            self._entitlements().require(Action.COMPATIBILITY)
        if self.quota is not None:
            await self.quota.check(searched, query)
        registry = self.registry(kind)
        if registry.type is self.default and self.custom:
            result = await self._search_with_custom(registry, query)
        else:
            result = labelled(await registry.search(query), registry.name)
        if self.quota is not None:
            await self.quota.count(searched, query)
        if query.only_compatible:
            kept = [m for m in result.models if await self._fits(m)]
            result = replace(result, models=tuple(kept))
        self._bus.publish(ModelSearched(query.query or "", len(result.models)))
        return result

    async def _search_with_custom(
        self, registry: ModelRegistry, query: ModelSearchQuery
    ) -> ModelSearchResult:
        """The default registry and every configured one; the configured ones only where the
        user's edition allows them (else each is named as unavailable, with why)."""
        refusal = self.quota.custom_refusal() if self.quota is not None else None
        if refusal is None:
            return await search_together(registry, list(self.custom.values()), query)
        result = labelled(await registry.search(query), registry.name)
        left_out = tuple(UnavailableRegistry(name, refusal) for name in self.custom)
        return replace(result, unavailable=left_out)

    async def _fits(self, model: RemoteModel) -> bool:
        level = (await self.badge(model)).level
        return level is not None and level is not CompatibilityLevel.INCOMPATIBLE

    async def badge(self, model: RemoteModel) -> FitBadge:
        refused = no_verdict_reason(self._entitlements())
        if refused is not None:
            return FitBadge(None, refused)
        parameters = parameter_count(model.parameter_count)
        if parameters is None:
            return FitBadge(None, "size unknown until the model is opened")
        size = int(parameters * BADGE_BITS_PER_WEIGHT / 8)
        variant = ModelVariant("badge", "badge.gguf", ModelFormat.GGUF, size)
        facts = ModelFacts.from_size(parameters, size, "Q4_K_M")
        fit = await (await self.analyzer()).analyze_variant(variant, facts=facts)
        return FitBadge(fit.level, f"at Q4_K_M: {fit.reason or level_word(fit.level)}")

    async def details(
        self,
        model_id: str,
        kind: ModelRegistryType | None = None,
        *,
        registry_name: str | None = None,
    ) -> ModelDetails:
        """``registry_name``: the registry a search result came from (it wins over ``kind``)."""
        registry = self.registry_named(registry_name) if registry_name else self.registry(kind)
        found = await registry.get_model(model_id)
        if found is None:
            raise ModelNotFoundError(model_id, f" ({registry.name})")
        model = replace(
            found,
            variants=tuple(await registry.get_variants(model_id)),
            registry_name=found.registry_name or registry.name,
        )
        notes: list[str] = []
        if model.gated:
            notes.append(
                f"Gated: accept the license on the model page ({model.repository or model_id}) "
                "and set HF_TOKEN before downloading."
            )
        notes.extend(model.restrictions)
        refused = no_verdict_reason(self._entitlements())
        if refused is not None:  # the variants to choose from, without a verdict
            variants = tuple(
                VariantCompatibility(v, None, None, reason=refused) for v in model.variants
            )
            return ModelDetails(model, variants, None, (*notes, f"No fit verdicts: {refused}."))
        probe, unreadable, note = await self._probe(model)
        if note:
            notes.append(note)
        notes.extend(
            f"Could not read the GGUF header of {v.filename} ({unreadable[v.download_url]}): "
            "no verdict for it."
            for v in model.variants
            if v.download_url in unreadable
        )
        facts_for = None
        if probe is not None or unreadable:
            shape = probe
            sized = CompatibilityAnalyzer.sized
            parameters = parameter_count(model.parameter_count)

            async def facts_for(variant: ModelVariant) -> ModelFacts:
                url = variant.download_url or ""
                if url in unreadable:  # no header, no verdict (not a guess from its size)
                    raise unreadable[url]
                if shape is None:
                    return sized(variant, parameters)
                if url == shape.url:
                    return shape.facts
                tensors = max(1, variant.size_bytes - shape.header_bytes)
                return shape.facts.with_weight_bytes(tensors, quant_label(variant))

        analyzer = CompatibilityAnalyzer(
            await self._hardware(), facts_for=facts_for, measured=await self._lookup(model.id)
        )
        compatibility = await analyzer.analyze(model)
        return ModelDetails(
            model, compatibility.variant_compatibilities, compatibility, tuple(notes)
        )

    async def analyse_all(
        self,
        models: Sequence[RemoteModel],
        on_row: Callable[[int, FitRow], None] | None = None,
    ) -> list[FitRow]:
        """Bulk fit over search results: each model opened as ``details`` opens it (from the
        registry it came from), its best variant that fits or why none does; a model that
        fails is a row with its reason, never the end of the table. ``on_row(index, row)``
        hears of each row as it is done."""

        async def one(target: str) -> FitRow:
            model = models[int(target)]
            found = await self.details(model.id, model.registry, registry_name=model.registry_name)
            return row_from_model(model.id, found.compatibility)

        def named(index: int, row: FitRow) -> FitRow:
            return replace(row, model=models[index].id)  # a failed row is named by its index

        def heard(index: int, row: FitRow) -> None:
            if on_row is not None:
                on_row(index, named(index, row))

        rows = await analyse_all([str(i) for i in range(len(models))], one, on_row=heard)
        return [named(i, row) for i, row in enumerate(rows)]

    async def _lookup(self, model_id: str) -> MeasuredLookup | None:
        if self._measured is None:
            return None
        try:
            return speed_lookup(model_id, await self._measured())
        except (StoreError, sqlite3.Error) as exc:  # estimates alone are still worth showing
            logging.getLogger(__name__).warning("measured speeds unavailable: %s", exc)
            return None

    async def _probe(self, model: RemoteModel) -> Probed:
        """The real shape from one variant's GGUF header: the smallest single file (fewest
        bytes behind the header); a mirror may lack a file, so up to three are tried. Also
        the files whose header was refused (by URL), which get no verdict."""
        # By registry too: two registries may hold different files under one repo id.
        probe_key = f"{model.registry_name}|{model.id}"
        if probe_key in self._probes:
            return self._probes[probe_key]
        ggufs = [
            v
            for v in model.variants
            if v.format is ModelFormat.GGUF and v.download_url and len(v.files) <= 1
        ]
        if not any(v.download_url for v in model.variants):
            return (
                None,
                {},
                "Sizes as listed: each variant's file is resolved and verified when it is pulled.",
            )
        if not ggufs:
            return None, {}, "No single-file GGUF variant: estimates come from file sizes."
        token = self._token_for(model)
        headers = {"Authorization": f"Bearer {token}"} if token else None
        unreadable: dict[str, GgufError] = {}
        unfetched: GgufFetchError | None = None
        for variant in sorted(ggufs, key=lambda v: v.size_bytes)[:PROBE_ATTEMPTS]:
            url = variant.download_url or ""
            try:
                remote = await asyncio.to_thread(read_remote_header, url, headers=headers)
                facts = ModelFacts.from_gguf_header(remote.header)
            except GgufFetchError as exc:  # says nothing of the file: estimated like the rest
                unfetched = exc
                continue
            except GgufError as exc:  # its bytes were refused: that file gets no verdict
                unreadable[url] = exc
                continue
            probe = HeaderProbe(url, facts, remote.header.data_offset)
            self._probes[probe_key] = (probe, unreadable, None)
            return probe, unreadable, None
        if unfetched is None:
            return None, unreadable, None
        note = f"Could not read a GGUF header ({unfetched}); estimates use file sizes."
        return None, unreadable, note

    def _token_for(self, model: RemoteModel) -> str | None:
        """A configured registry's own token for its models; the Hub's only for the Hub's."""
        custom = self.custom.get(model.registry_name or "")
        if custom is not None:
            return custom.token()
        return self._hub_token() if model.registry is ModelRegistryType.HUGGING_FACE else None

    async def download(self, model: RemoteModel, variant: ModelVariant) -> ModelDownload:
        """Queue ``variant``. One listed without a download link (a tag from the Ollama
        library's page) is resolved by its id first, so what is fetched is what the registry's
        manifest names, with its size and checksum."""
        registry = self.registries.get(model.registry)
        if variant.download_url is None and registry is not None:
            resolved = await registry.get_model(variant.variant_id)
            if resolved is None or not resolved.variants:
                raise ModelNotFoundError(variant.variant_id, f" ({registry.name})")
            model, variant = resolved, resolved.variants[0]
        return await self._start_download(model, variant)
