"""The Discover area: search the Hugging Face Hub and the Ollama library, fit before download."""
