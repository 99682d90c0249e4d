"""Threshold alerts over resource samples: RAM, VRAM per GPU, CPU and GPU temperature.

Alerts are edge-triggered: one ``ResourceAlert`` when a reading reaches its threshold, and
another only after the reading has dropped below it again, so a machine that stays busy is not
reported on every sample. A GPU that disappears is forgotten, so its return starts fresh.
The alerts still standing (raised, not yet recovered) are kept, so a screen opened later can show
them. Each message says what is short and what to do about it, in one plain line.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexitui.domain.resources import InferenceResourceUsage, ResourceAlertConfig, ResourceType
from lexitui.domain.units import format_bytes
from lexitui.events import ResourceAlert


@dataclass(frozen=True)
class Reading:
    key: str  # one watched figure: "ram", "cpu", "vram:<gpu id>", "temperature:<gpu id>"
    resource: ResourceType
    value: float
    threshold: float
    usage_percent: float
    message: str


class ResourceAlertWatcher:
    def __init__(self, config: ResourceAlertConfig | None = None) -> None:
        self.config = config or ResourceAlertConfig()
        # The keys whose reading is at or above its threshold, with the alert that said so.
        self._raised: dict[str, ResourceAlert] = {}

    def set_config(self, config: ResourceAlertConfig) -> None:
        """New thresholds apply from the next sample: a reading now under its new threshold
        re-arms, one still over it stays raised (no second alert for the same episode)."""
        self.config = config

    def check(self, usage: InferenceResourceUsage) -> list[ResourceAlert]:
        readings = self.readings(usage)
        seen = {r.key for r in readings}
        # A switched-off alert or a vanished GPU re-arms.
        self._raised = {key: alert for key, alert in self._raised.items() if key in seen}
        alerts: list[ResourceAlert] = []
        for reading in readings:
            over = reading.value >= reading.threshold
            if over and reading.key not in self._raised:
                alert = ResourceAlert(
                    reading.resource.value, reading.usage_percent, reading.message
                )
                self._raised[reading.key] = alert
                alerts.append(alert)
            elif not over:
                self._raised.pop(reading.key, None)
        return alerts

    def standing(self) -> list[ResourceAlert]:
        """The alerts raised and not yet recovered, oldest first."""
        return list(self._raised.values())

    def reset(self) -> None:
        """Forget every raised alert: with no samples taken, none can be said to stand, and
        the next sample that crosses a threshold alerts again."""
        self._raised.clear()

    def readings(self, usage: InferenceResourceUsage) -> list[Reading]:
        config = self.config
        out: list[Reading] = []
        if config.ram_percent is not None and usage.system_ram_bytes > 0:
            total = usage.system_ram_bytes
            percent = 100.0 * usage.system_ram_used_bytes / total
            free = format_bytes(max(0, total - usage.system_ram_used_bytes))
            message = (
                f"memory low: {free} free of {format_bytes(total)} (RAM {percent:.0f}% used,"
                f" alert at {config.ram_percent:.0f}%); unload a model or close other programs"
            )
            out.append(
                Reading("ram", ResourceType.RAM, percent, config.ram_percent, percent, message)
            )
        if config.cpu_percent is not None:
            cpu = usage.cpu_usage_percent
            message = f"CPU {cpu:.0f}% busy (alert at {config.cpu_percent:.0f}%)"
            out.append(Reading("cpu", ResourceType.CPU, cpu, config.cpu_percent, cpu, message))
        for gpu in usage.gpu_usage:
            if config.vram_percent is not None and gpu.vram_total_bytes > 0:
                percent = 100.0 * gpu.vram_used_bytes / gpu.vram_total_bytes
                free = format_bytes(max(0, gpu.vram_total_bytes - gpu.vram_used_bytes))
                message = (
                    f"GPU memory low on {gpu.gpu_name} ({gpu.gpu_id}): {free} free of"
                    f" {format_bytes(gpu.vram_total_bytes)} (VRAM {percent:.0f}% used, alert at"
                    f" {config.vram_percent:.0f}%); unload a model or put fewer layers on the GPU"
                )
                key = f"vram:{gpu.gpu_id}"
                out.append(
                    Reading(key, ResourceType.VRAM, percent, config.vram_percent, percent, message)
                )
            limit = config.gpu_temperature_celsius
            if limit is not None and limit > 0 and gpu.temperature_celsius is not None:
                celsius = gpu.temperature_celsius
                message = (
                    f"{gpu.gpu_name} ({gpu.gpu_id}) at {celsius:.0f} °C (alert at {limit:.0f} °C)"
                )
                out.append(
                    Reading(
                        f"temperature:{gpu.gpu_id}",
                        ResourceType.GPU_TEMPERATURE,
                        celsius,
                        limit,
                        100.0 * celsius / limit,
                        message,
                    )
                )
        return out
