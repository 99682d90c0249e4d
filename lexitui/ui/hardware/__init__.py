"""The Hardware area: CPU, RAM, disk and live GPU cards, what fits, and the settings dialog."""
