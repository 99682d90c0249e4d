"""Routing requests between the local runtime and cloud providers: the router, fallback,
costs and savings, budgets and orchestration overrides (the roadmap's v0.16.5)."""
