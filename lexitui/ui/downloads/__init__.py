"""The Downloads area: every download's progress, its details and the Hub token dialog."""
