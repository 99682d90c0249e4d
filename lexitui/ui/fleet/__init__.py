"""The Fleet area: every configured host and its GPUs, live."""
