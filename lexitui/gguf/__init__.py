"""The one bounded GGUF header parser: local files, remote files over HTTP Range, integrity checks."""
