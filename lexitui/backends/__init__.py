"""Inference backends (roadmap v0.16.1g-i): one contract over Ollama, llama.cpp (connected or
managed), LM Studio, vLLM, LocalAI, text-generation-webui and any OpenAI-compatible endpoint;
the manager that holds them; and the health monitor that reports their status.

Service layer: never imports Textual. Screens use ``BackendManager`` and its streams.

Nothing is re-exported here: importing ``lexitui.backends.base`` (the runtime does, at start-up)
must not load every backend kind, the health monitor and the manager (~0.1 s) with it.
"""
