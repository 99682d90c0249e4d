"""The Dashboard area: the machine, models, the local LLM and the routing panels at a glance."""
