"""The routing sections of config.toml: the router, the cloud providers, costs and the gateway.

```toml
[routing]
strategy = "prefer_local"        # one of the nine RoutingStrategy values
fallback = true
local_model = "smollm2-135m-instruct-q4_1"   # loaded on first use when nothing is loaded
local_timeout_s = 120
local_max_concurrent = 2         # requests the local model holds (answering or in line) before
                                 # others go elsewhere; never fewer than its slots
min_tokens_for_local = 0         # prompts smaller/larger than these go to the cloud
max_tokens_for_local = 6000
cloud_provider = "openai"
cloud_model = "gpt-4o-mini"
daily_budget_usd = 5.0
monthly_budget_usd = 50.0
record_prompts = false           # store prompt text with each routed request

[routing.tasks]                  # TaskType -> strategy
code_generation = "prefer_cloud"
summarization = "prefer_local"

[routing.chains]                 # TaskType -> fallback chain of provider ids
chat = ["local", "openai", "anthropic"]

[providers.openai]               # the table name is the provider id
kind = "openai"                  # openai | openai_compatible | azure | anthropic
base_url = "https://api.openai.com/v1"
model = "gpt-4o-mini"
models = ["gpt-4o-mini", "gpt-4o"]
api_key_env = "OPENAI_API_KEY"   # the environment wins over a stored key
quality = 0.9                    # 0..1, your rating; QualityOptimized picks the highest
timeout_s = 60
price_provider = "openai"        # the genai-prices provider id for this endpoint's prices

[providers.azure]
kind = "azure"
base_url = "https://NAME.openai.azure.com"
api_version = "2024-10-21"
deployments = { "gpt-4o" = "my-gpt4o" }

[costs]
electricity_usd_per_kwh = 0.15
cpu_watts = 65                   # what the CPU draws under load when no GPU energy is measured
compare_to = "openai:gpt-4o-mini"   # the cloud model local requests are priced against
[costs.prices."my-model"]        # overrides: USD per million tokens
input_per_mtok = 0.5
output_per_mtok = 1.5

[orchestration.agents.researcher]   # also [orchestration.workflows.ID], [orchestration.tasks.T]
provider = "anthropic"
model = "claude-sonnet-4-5"
strategy = "cloud_only"

[gateway]
host = "127.0.0.1"
port = 8788
api_key_env = "LEXITUI_GATEWAY_KEY"  # required when host is not loopback
max_connections = 256  # open connections at once (lowered to fit the open-file limit)
ollama_port = 11434    # the Ollama API there too (as well as on port); false: off, 0: any free
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from lexitui.config import (
    ConfigError,
    Paths,
    finite_number,
    load_config,
    naming_file,
    save_config_section,
)
from lexitui.domain.language_model import TaskType
from lexitui.domain.routing import (
    FallbackConfig,
    LlmOverride,
    OrchestrationLlmConfig,
    RoutingConfig,
    RoutingStrategy,
)
from lexitui.routing.gateway_settings import GatewaySettings, gateway_settings

PROVIDER_KINDS = ("openai", "openai_compatible", "azure", "anthropic")
DEFAULT_KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
}
DEFAULT_BASE_URL = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}
DEFAULT_QUALITY = 0.8  # cloud models, unless rated in config
LOCAL_QUALITY = 0.5  # the local provider, unless [routing] local_quality says otherwise
MAX_SECONDS = 7 * 24 * 3600  # longer timeouts or cooldowns are typos, not intentions
MAX_COUNT = 1e12  # token limits and counts: large, yet far from overflowing anything
MAX_USD = Decimal(10) ** 12


@dataclass(frozen=True)
class ProviderSettings:
    id: str
    kind: str
    base_url: str
    model: str | None = None
    models: tuple[str, ...] = ()
    api_key_env: str | None = None
    api_version: str | None = None  # Azure
    deployments: dict[str, str] = field(default_factory=dict)  # Azure: model -> deployment
    quality: float = DEFAULT_QUALITY
    timeout_s: float = 60.0
    price_provider: str | None = None  # genai-prices provider id
    context_length: int | None = None


@dataclass(frozen=True)
class CostSettings:
    electricity_usd_per_kwh: Decimal = Decimal("0.15")
    cpu_watts: float = 65.0
    compare_to: str | None = None  # "provider:model" of genai-prices; None: first cloud provider
    prices: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # per Mtok in, out


@dataclass(frozen=True)
class RoutingSettings:
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    fallback: FallbackConfig = field(default_factory=FallbackConfig)
    providers: tuple[ProviderSettings, ...] = ()
    costs: CostSettings = field(default_factory=CostSettings)
    orchestration: OrchestrationLlmConfig = field(default_factory=OrchestrationLlmConfig)
    workflow_overrides: dict[str, LlmOverride] = field(default_factory=dict)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)
    local_quality: float = LOCAL_QUALITY
    record_prompts: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RoutingSettings:
        """The routing settings; a bad value is a ``ConfigError`` naming the file and the key."""
        with naming_file(config):
            return cls._from_tables(config)

    @classmethod
    def _from_tables(cls, config: dict[str, Any]) -> RoutingSettings:
        routing = _table(config, "routing")
        providers = tuple(
            _provider(name, _table(_table(config, "providers"), name))
            for name in _table(config, "providers")
        )
        if any(p.id == "local" for p in providers):
            raise ConfigError("[providers.local] is reserved for the local runtime")
        orchestration = _table(config, "orchestration")
        routing_config = RoutingConfig(
            default_strategy=strategy(
                routing.get("strategy", "prefer_local"), "[routing] strategy"
            ),
            enable_fallback=_flag(routing, "fallback", True),
            preferred_local_model=_text(routing.get("local_model")),
            local_timeout_seconds=int(_seconds(routing, "local_timeout_s", 120)),
            local_max_concurrent=int(_count(routing, "local_max_concurrent", 2)),
            preferred_cloud_provider=_text(routing.get("cloud_provider")),
            preferred_cloud_model=_text(routing.get("cloud_model")),
            task_routing={
                task(k): strategy(v, f"[routing.tasks] {k}")
                for k, v in _table(routing, "tasks", "routing").items()
            },
            daily_cloud_budget=_money(
                routing.get("daily_budget_usd"), "[routing] daily_budget_usd"
            ),
            monthly_cloud_budget=_money(
                routing.get("monthly_budget_usd"), "[routing] monthly_budget_usd"
            ),
            min_tokens_for_local=_optional_count(routing, "min_tokens_for_local"),
            max_tokens_for_local=_optional_count(routing, "max_tokens_for_local"),
        )
        fallback = FallbackConfig(
            chains={
                task(k): tuple(str(p) for p in _list(v, f"[routing.chains] {k}"))
                for k, v in _table(routing, "chains", "routing").items()
            },
            allowed_fails=int(_count(routing, "allowed_fails", 3)),
            cooldown=timedelta(seconds=_seconds(routing, "cooldown_s", 30)),
            max_cooldown=timedelta(seconds=_seconds(routing, "max_cooldown_s", 600)),
        )
        return cls(
            routing=routing_config,
            fallback=fallback,
            providers=providers,
            costs=_costs(_table(config, "costs")),
            orchestration=OrchestrationLlmConfig(
                default_strategy=routing_config.default_strategy,
                default_local_model=routing_config.preferred_local_model,
                default_cloud_provider=routing_config.preferred_cloud_provider,
                default_cloud_model=routing_config.preferred_cloud_model,
                agent_overrides={
                    k: _override(v, f"agents.{k}")
                    for k, v in _table(orchestration, "agents", "orchestration").items()
                },
                task_defaults={
                    task(k): _override(v, f"tasks.{k}")
                    for k, v in _table(orchestration, "tasks", "orchestration").items()
                },
            ),
            workflow_overrides={
                k: _override(v, f"workflows.{k}")
                for k, v in _table(orchestration, "workflows", "orchestration").items()
            },
            gateway=gateway_settings(_table(config, "gateway")),
            local_quality=_quality(routing, "local_quality", LOCAL_QUALITY, "[routing]"),
            record_prompts=_flag(routing, "record_prompts", False),
        )

    def provider(self, provider_id: str) -> ProviderSettings:
        for p in self.providers:
            if p.id == provider_id:
                return p
        raise ConfigError(f"no provider {provider_id!r} in [providers]")


def save_routing_choices(paths: Paths, config: RoutingConfig) -> None:
    """Write what the Routing screen changes (default strategy, fallback, per-task strategies)
    into ``[routing]`` of config.toml, keeping every other key and table there as it was, so
    the choices hold at the next start."""
    routing = dict(_table(load_config(paths), "routing"))
    routing["strategy"] = config.default_strategy.value
    routing["fallback"] = config.enable_fallback
    tasks = {t.value: s.value for t, s in config.task_routing.items()}
    if tasks:
        routing["tasks"] = tasks
    else:
        routing.pop("tasks", None)
    save_config_section(paths, "routing", routing)


def strategy(value: object, where: str) -> RoutingStrategy:
    try:
        return RoutingStrategy(str(value).lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(s.value for s in RoutingStrategy)
        raise ConfigError(f"{where}: unknown strategy {value!r} (one of {names})") from None


def task(value: object) -> TaskType:
    try:
        return TaskType(str(value).lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(t.value for t in TaskType)
        raise ConfigError(f"unknown task type {value!r} (one of {names})") from None


def _provider(name: str, table: dict[str, Any]) -> ProviderSettings:
    kind = str(table.get("kind", name if name in PROVIDER_KINDS else "openai_compatible"))
    if kind not in PROVIDER_KINDS:
        raise ConfigError(f"[providers.{name}] kind must be one of {', '.join(PROVIDER_KINDS)}")
    base_url = _text(table.get("base_url")) or DEFAULT_BASE_URL.get(kind)
    if not base_url:
        raise ConfigError(f"[providers.{name}] needs base_url")
    if kind == "azure" and not table.get("api_version"):
        raise ConfigError(f"[providers.{name}] (azure) needs api_version")
    quality = _quality(table, "quality", DEFAULT_QUALITY, f"[providers.{name}]")
    return ProviderSettings(
        id=name,
        kind=kind,
        base_url=base_url.rstrip("/"),
        model=_text(table.get("model")),
        models=tuple(str(m) for m in _list(table.get("models", []), f"[providers.{name}] models")),
        api_key_env=_text(table.get("api_key_env")) or DEFAULT_KEY_ENV.get(kind),
        api_version=_text(table.get("api_version")),
        deployments={str(k): str(v) for k, v in _table(table, "deployments", name).items()},
        quality=quality,
        timeout_s=_seconds(table, "timeout_s", 60, f"[providers.{name}]"),
        price_provider=_text(table.get("price_provider"))
        or ({"azure": "azure", "anthropic": "anthropic", "openai": "openai"}.get(kind)),
        context_length=_optional_count(table, "context_length", f"[providers.{name}]"),
    )


def _costs(table: dict[str, Any]) -> CostSettings:
    prices: dict[str, tuple[Decimal, Decimal]] = {}
    for model, row in _table(table, "prices", "costs").items():
        if not isinstance(row, dict):
            raise ConfigError(f"[costs.prices.{model}] must be a table")
        prices[str(model)] = (
            _money(row.get("input_per_mtok", 0), f"[costs.prices.{model}] input_per_mtok")
            or Decimal(0),
            _money(row.get("output_per_mtok", 0), f"[costs.prices.{model}] output_per_mtok")
            or Decimal(0),
        )
    return CostSettings(
        electricity_usd_per_kwh=_money(
            table.get("electricity_usd_per_kwh", "0.15"), "[costs] electricity_usd_per_kwh"
        )
        or Decimal(0),
        cpu_watts=finite_number(table.get("cpu_watts", 65), "[costs] cpu_watts", high=100_000),
        compare_to=_text(table.get("compare_to")),
        prices=prices,
    )


def _override(value: object, where: str) -> LlmOverride:
    if not isinstance(value, dict):
        raise ConfigError(f"[orchestration.{where}] must be a table")
    raw = value.get("strategy")
    params = value.get("parameters")
    return LlmOverride(
        provider_id=_text(value.get("provider")),
        model_id=_text(value.get("model")),
        strategy=None if raw is None else strategy(raw, f"[orchestration.{where}] strategy"),
        parameters=dict(params) if isinstance(params, dict) else None,
    )


def _table(parent: dict[str, Any], name: str, where: str = "") -> dict[str, Any]:
    value = parent.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{where + '.' if where else ''}{name}] must be a table")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list, not {value!r}")
    return value


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _flag(table: dict[str, Any], key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"[routing] {key} must be true or false, not {value!r}")
    return value


def _seconds(table: dict[str, Any], key: str, default: float, where: str = "[routing]") -> float:
    return finite_number(table.get(key, default), f"{where} {key}", high=MAX_SECONDS)


def _count(table: dict[str, Any], key: str, default: int, where: str = "[routing]") -> float:
    return finite_number(table.get(key, default), f"{where} {key}", high=MAX_COUNT)


def _optional_count(table: dict[str, Any], key: str, where: str = "[routing]") -> int | None:
    return None if table.get(key) is None else int(_count(table, key, 0, where))


def _quality(table: dict[str, Any], key: str, default: float, where: str) -> float:
    return finite_number(table.get(key, default), f"{where} {key}", high=1)


def _money(value: object, where: str) -> Decimal | None:
    """An amount in USD: a number or a decimal string, finite and not negative."""
    if value is None:
        return None
    accepted = f"{where} must be an amount in USD (a number, 0 or more), not {value!r}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(accepted)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(accepted) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_USD:
        raise ConfigError(accepted)
    return amount
