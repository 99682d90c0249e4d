"""Local stand-ins for servers the tests cannot reach (Ollama), speaking their published APIs."""

from tests.fakes.ollama_models import FakeModel
from tests.fakes.ollama_server import FakeOllama, fake_ollama

__all__ = ["FakeModel", "FakeOllama", "fake_ollama"]
