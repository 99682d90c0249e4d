"""One module per screen or dialog; each is a thin view over its area's service."""
