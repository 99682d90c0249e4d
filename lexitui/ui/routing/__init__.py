"""The Routing area: strategies, providers, budgets, the live decision log and dry runs."""
