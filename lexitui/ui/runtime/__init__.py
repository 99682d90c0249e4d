"""The Runtime area: loaded models, the chat, context and snapshots, embeddings, the profiler."""
