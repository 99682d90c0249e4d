"""Orchestration overrides (the roadmap's ``IOrchestrationLlmIntegration``).

Agents and workflows name themselves on each request (the gateway reads a header or the OpenAI
``user`` field); their overrides then pick the provider, model or strategy. The most specific
wins: a workflow execution's override, then the agent's, then the task's default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from lexitui.domain.language_model import LanguageModelRequest
from lexitui.domain.routing import LlmOverride, OrchestrationLlmConfig, RoutingOptions
from lexitui.routing.errors import RoutingError
from lexitui.routing.provider import LanguageModelProvider


class OrchestrationLlmIntegration:
    def __init__(
        self,
        config: OrchestrationLlmConfig,
        providers: Callable[[], Sequence[LanguageModelProvider]],
        workflow_overrides: dict[str, LlmOverride] | None = None,
    ) -> None:
        self.config = config
        self._providers = providers
        self._workflows = dict(workflow_overrides or {})

    async def configure_provider(self, config: OrchestrationLlmConfig) -> None:
        self.config = config

    async def set_workflow_override(self, workflow_id: str, override: LlmOverride) -> None:
        self._workflows[workflow_id] = override

    async def clear_workflow_override(self, workflow_id: str) -> None:
        self._workflows.pop(workflow_id, None)

    async def get_provider_for_agent(self, agent_id: str) -> LanguageModelProvider:
        """The provider the agent's override names, else the default cloud provider when the
        default strategy prefers the cloud, else the local one."""
        override = self.config.agent_overrides.get(agent_id)
        wanted = override.provider_id if override else None
        if wanted is None:
            cloud_first = self.config.default_strategy.value in ("prefer_cloud", "cloud_only")
            wanted = self.config.default_cloud_provider if cloud_first else "local"
        for provider in self._providers():
            if provider.provider_id == wanted:
                return provider
        raise RoutingError(f"agent {agent_id}: no provider {wanted!r} is configured")

    def override_for(self, request: LanguageModelRequest) -> tuple[LlmOverride | None, str]:
        """The override that applies to ``request`` and what it came from."""
        if request.workflow_id and request.workflow_id in self._workflows:
            return self._workflows[request.workflow_id], f"workflow {request.workflow_id}"
        if request.agent_id and request.agent_id in self.config.agent_overrides:
            return self.config.agent_overrides[request.agent_id], f"agent {request.agent_id}"
        if request.task in self.config.task_defaults:
            return self.config.task_defaults[request.task], f"task {request.task.value}"
        return None, ""

    def apply(
        self, request: LanguageModelRequest, options: RoutingOptions
    ) -> tuple[LanguageModelRequest, RoutingOptions, str]:
        """``request`` and ``options`` with the override applied, and who set it ("" when
        none did). Explicit options (a CLI flag) win over an override."""
        override, source = self.override_for(request)
        if override is None:
            return request, options, ""
        if override.model_id and not request.model:
            request = replace(request, model=override.model_id)
        if override.parameters:
            request = _with_parameters(request, override.parameters)
        options = replace(
            options,
            strategy=options.strategy or override.strategy,
            provider_id=options.provider_id or override.provider_id,
        )
        return request, options, source


def _with_parameters(request: LanguageModelRequest, params: dict[str, Any]) -> LanguageModelRequest:
    known = {k: v for k, v in params.items() if k in ("temperature", "top_p", "max_tokens")}
    return replace(request, parameters={**params, **request.parameters}, **known)
