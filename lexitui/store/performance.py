"""Rows of the performance profiler: one per model, kept after the model is unloaded or lexitui
restarts, so speeds measured here can stand in for estimates.

Running figures are sums (``tps_sum``, ``ttft_sum_ms``) over ``requests``, updated in one upsert
per generation, so concurrent writers never lose an increment; averages are derived on read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from lexitui.store.database import Store


@dataclass(frozen=True)
class ModelPerformance:
    model_id: str
    requests: int
    tokens: int
    average_tokens_per_second: float
    peak_tokens_per_second: float
    average_ttft_ms: float
    bench_tokens_per_second: float | None = None
    bench_ttft_ms: float | None = None
    bench_at: datetime | None = None

    @property
    def measured_tokens_per_second(self) -> float | None:
        """The figure that best says how fast this model decodes here: the benchmark's (fixed
        prompts, comparable between models), else the average of real requests."""
        if self.bench_tokens_per_second:
            return self.bench_tokens_per_second
        return self.average_tokens_per_second or None


@dataclass(frozen=True)
class MeasuredFile:
    """A profiled model joined with its installed file: where the measured speed applies."""

    model_id: str
    path: str
    source: str
    tokens_per_second: float
    benchmarked: bool


# One finished generation: model id, tokens, tokens/s, time to first token (ms), when.
Generation = tuple[str, int, float, float, datetime]


class PerformanceRows:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def record_generation(
        self, model_id: str, tokens: int, tokens_per_second: float, ttft_ms: float, at: datetime
    ) -> None:
        await self.record_generations([(model_id, tokens, tokens_per_second, ttft_ms, at)])

    async def record_generations(self, generations: Sequence[Generation]) -> None:
        """Each (model, tokens, tokens/s, TTFT ms, when) added to its model's row, in one
        transaction."""
        async with self._store.write() as conn:
            await conn.executemany(
                """
                INSERT INTO model_performance
                    (model_id, requests, tokens, tps_sum, peak_tps, ttft_sum_ms, updated_at)
                VALUES (?, 1, ?, ?, ?, ?, ?)
                ON CONFLICT(model_id) DO UPDATE SET
                    requests = requests + 1,
                    tokens = tokens + excluded.tokens,
                    tps_sum = tps_sum + excluded.tps_sum,
                    peak_tps = max(peak_tps, excluded.peak_tps),
                    ttft_sum_ms = ttft_sum_ms + excluded.ttft_sum_ms,
                    updated_at = excluded.updated_at
                """,
                [(m, n, tps, tps, ttft, _iso(at)) for m, n, tps, ttft, at in generations],
            )

    async def record_bench(
        self, model_id: str, tokens_per_second: float, ttft_ms: float, at: datetime
    ) -> None:
        async with self._store.write() as conn:
            await conn.execute(
                """
                INSERT INTO model_performance (model_id, bench_tps, bench_ttft_ms, bench_at,
                    updated_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(model_id) DO UPDATE SET
                    bench_tps = excluded.bench_tps,
                    bench_ttft_ms = excluded.bench_ttft_ms,
                    bench_at = excluded.bench_at,
                    updated_at = excluded.updated_at
                """,
                (model_id, tokens_per_second, ttft_ms, _iso(at), _iso(at)),
            )

    async def get(self, model_id: str) -> ModelPerformance | None:
        rows = await self._store.fetch_all(
            "SELECT * FROM model_performance WHERE model_id = ?", (model_id,)
        )
        return _performance(rows[0]) if rows else None

    async def all(self) -> list[ModelPerformance]:
        rows = await self._store.fetch_all("SELECT * FROM model_performance ORDER BY model_id")
        return [_performance(r) for r in rows]

    async def measured_files(self) -> list[MeasuredFile]:
        """Installed models with a measured speed, with the file and source they came from."""
        rows = await self._store.fetch_all(
            """
            SELECT p.*, i.path, i.source FROM model_performance p
            JOIN installed_models i ON i.id = p.model_id
            ORDER BY p.model_id
            """
        )
        out = []
        for row in rows:
            performance = _performance(row)
            speed = performance.measured_tokens_per_second
            if speed:
                benchmarked = performance.bench_tokens_per_second is not None
                out.append(
                    MeasuredFile(row["model_id"], row["path"], row["source"], speed, benchmarked)
                )
        return out


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _performance(row: aiosqlite.Row) -> ModelPerformance:
    requests = int(row["requests"])
    bench_at = row["bench_at"]
    return ModelPerformance(
        model_id=row["model_id"],
        requests=requests,
        tokens=int(row["tokens"]),
        average_tokens_per_second=float(row["tps_sum"]) / requests if requests else 0.0,
        peak_tokens_per_second=float(row["peak_tps"]),
        average_ttft_ms=float(row["ttft_sum_ms"]) / requests if requests else 0.0,
        bench_tokens_per_second=_optional(row["bench_tps"]),
        bench_ttft_ms=_optional(row["bench_ttft_ms"]),
        bench_at=datetime.fromisoformat(bench_at) if bench_at else None,
    )


def _optional(value: float | None) -> float | None:
    return None if value is None else float(value)
