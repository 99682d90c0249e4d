"""The editions' routing rows, checked where requests are routed (docs/editions.md).

* basic routing (WriterPro): the basic strategies below, one provider per request.
* full routing options (Teams): every other strategy, ``[routing.chains]``, agent and workflow
  overrides and the local token limits.
* automatic fallback (Teams): another provider than the strategy's first choice answering
  without being asked; below Teams the first choice answers or the request is refused with
  how to ask the other side by hand.
* task routing (Enterprise): ``[routing.tasks]`` and ``[orchestration.tasks.T]``.

What a request asks for (a strategy flag or header) is refused when the tier does not allow it;
what the config says is left out for that user and the decision's reason says so, so a config
written for a higher tier never makes a lower one unusable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from lexitui.domain.language_model import LanguageModelRequest, TaskType
from lexitui.domain.routing import RoutingConfig, RoutingStrategy
from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.refusals import NotEntitled
from lexitui.editions.tiers import REQUIRED_TIER, Action
from lexitui.routing.errors import RoutingError
from lexitui.routing.router import RoutePlan

# "Prefer local or prefer cloud": local only and cloud only are what the two are without
# automatic fallback anyway, so they give a basic user nothing more.
BASIC_STRATEGIES = frozenset(
    {
        RoutingStrategy.PREFER_LOCAL,
        RoutingStrategy.PREFER_CLOUD,
        RoutingStrategy.LOCAL_ONLY,
        RoutingStrategy.CLOUD_ONLY,
    }
)
# What a basic user's requests are routed with when the config names a strategy beyond them.
BASIC_DEFAULT = RoutingStrategy.PREFER_LOCAL


class RoutingRefused(NotEntitled, RoutingError):
    """A routed request the user's edition does not allow. A ``RoutingError`` as well, so
    every caller that shows a routing failure shows this one too (as the edition's answer:
    the gateway's 403, the CLI's one line)."""

    def __init__(self, action: Action, ent: Entitlements, *, after: str = "") -> None:
        NotEntitled.__init__(self, action, REQUIRED_TIER[action], ent.shown_tier, ent.reason)
        self.message = f"{self.message}{after}"
        self.args = (self.message,)


class RoutingGates:
    def __init__(self, entitlements: Callable[[], Entitlements] = lambda: OPEN) -> None:
        self._entitlements = entitlements

    def allows(self, action: Action) -> bool:
        return self._entitlements().allows(action)

    def require(self, action: Action) -> None:
        if not self.allows(action):
            raise RoutingRefused(action, self._entitlements())

    def require_routing(self, action: Action | None) -> None:
        """Any routed request: basic routing, and ``action`` (basic generation, embeddings)."""
        self.require(Action.BASIC_ROUTING)
        if action is not None:
            self.require(action)

    def check_asked(self, strategy: RoutingStrategy | None) -> None:
        """A strategy the request names (a flag, a header) beyond the basic ones."""
        if strategy is not None and strategy not in BASIC_STRATEGIES:
            self.require(Action.FULL_ROUTING)

    def chain(self, chains: Mapping[TaskType, Sequence[str]], task: TaskType) -> Sequence[str]:
        """The configured fallback chain for ``task``: a rule of full routing."""
        return chains.get(task, ()) if self.allows(Action.FULL_ROUTING) else ()

    def override_note(self, source: str) -> str | None:
        """Why an orchestration override (``source`` as ``override_for`` names it) is left
        out for this user; None when it applies."""
        action = Action.TASK_ROUTING if source.startswith("task ") else Action.FULL_ROUTING
        return None if self.allows(action) else self._left_out(f"the {source} override", action)

    def effective(
        self,
        config: RoutingConfig,
        request: LanguageModelRequest,
        chains: Mapping[TaskType, Sequence[str]],
    ) -> tuple[RoutingConfig, list[str]]:
        """``config`` as this user's edition lets it route ``request``, and what was left out."""
        notes: list[str] = []
        if not self.allows(Action.FULL_ROUTING):
            if config.default_strategy not in BASIC_STRATEGIES:
                what = f"[routing] strategy {config.default_strategy.value}"
                notes.append(self._left_out(what, Action.FULL_ROUTING, BASIC_DEFAULT.value))
                config = replace(config, default_strategy=BASIC_DEFAULT)
            if config.min_tokens_for_local or config.max_tokens_for_local:
                notes.append(self._left_out("the local token limits", Action.FULL_ROUTING))
                config = replace(config, min_tokens_for_local=None, max_tokens_for_local=None)
            if chains.get(request.task):
                what = f"the {request.task.value} fallback chain"
                notes.append(self._left_out(what, Action.FULL_ROUTING))
        if not self.allows(Action.TASK_ROUTING) and config.task_routing:
            if request.task in config.task_routing:
                what = f"[routing.tasks] {request.task.value}"
                notes.append(self._left_out(what, Action.TASK_ROUTING))
            config = replace(config, task_routing={})
        if not self.allows(Action.AUTO_FALLBACK) and config.enable_fallback:
            config = replace(config, enable_fallback=False)
        return config, notes

    def check_plan(self, plan: RoutePlan) -> None:
        """Another provider than the strategy's first choice answering is a fallback: below
        Teams it is refused, with how to ask the other side by hand. A request that names its
        provider or model asked for it."""
        if not plan.decision.was_fallback or plan.pinned or self.allows(Action.AUTO_FALLBACK):
            return
        passed = "; ".join(plan.skipped.values()) or "unavailable"
        to_cloud = not plan.chain[0][0].is_local
        first = "the local model" if to_cloud else "the preferred cloud provider"
        other = "a cloud model" if to_cloud else "the local model"
        strategy = "prefer_cloud" if to_cloud else "prefer_local"
        raise RoutingRefused(
            Action.AUTO_FALLBACK,
            self._entitlements(),
            after=f": {first} cannot take this request ({passed}); ask {other} yourself "
            f"(the {strategy} strategy, or a model by its name)",
        )

    def check_config_change(self, old: RoutingConfig, new: RoutingConfig) -> None:
        """A change of the routing choices (the Routing screen's keys) beyond the edition."""
        if new.default_strategy != old.default_strategy:
            self.check_asked(new.default_strategy)
        if new.task_routing != old.task_routing and new.task_routing:
            self.require(Action.TASK_ROUTING)
        if new.enable_fallback and not old.enable_fallback:
            self.require(Action.AUTO_FALLBACK)

    def _left_out(self, what: str, action: Action, instead: str = "") -> str:
        tier = REQUIRED_TIER[action].title
        used = f": {instead} used" if instead else ": left out"
        return f"{what} needs {tier}{used}"
