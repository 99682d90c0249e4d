"""The Backends area: every inference backend, its health and its form, the engine's log."""
