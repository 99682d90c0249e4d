"""Model discovery: registries (Hugging Face, Ollama library), variants, compatibility verdicts."""
