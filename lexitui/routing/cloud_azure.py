"""Azure OpenAI: OpenAI's request and answer shapes, addressed by deployment.

Each request goes to ``{base_url}/openai/deployments/{deployment}/...?api-version=X`` with the
key in an ``api-key`` header (not ``Authorization: Bearer``). The deployment is the one
configured for the model in ``deployments``, else the model name itself (Azure's portal suggests
naming deployments after their model). The body carries no ``model``: the deployment decides.
"""

from __future__ import annotations

from urllib.parse import quote

from lexitui.routing.cloud_openai import OpenAIProvider
from lexitui.routing.settings import ProviderSettings

DEFAULT_API_VERSION = "2024-10-21"  # the settings require one; this only guards a hand-built one


class AzureOpenAIProvider(OpenAIProvider):
    kind_name = "Azure OpenAI"

    def __init__(self, settings: ProviderSettings, key: str | None) -> None:
        super().__init__(settings, key)
        self.requires_key = True

    def deployment(self, model: str) -> str:
        return self._settings.deployments.get(model, model)

    def _auth_headers(self) -> dict[str, str]:
        return {"api-key": self._key} if self._key else {}

    def _deployment_url(self, model: str, operation: str) -> str:
        # quote: a deployment name is a path segment; a "/" in it must not change the path.
        name = quote(self.deployment(model), safe="")
        return f"{self.base_url}/openai/deployments/{name}/{operation}?{self._version()}"

    def _version(self) -> str:
        return f"api-version={quote(self._settings.api_version or DEFAULT_API_VERSION, safe='')}"

    def _chat_url(self, model: str) -> str:
        return self._deployment_url(model, "chat/completions")

    def _embeddings_url(self, model: str) -> str:
        return self._deployment_url(model, "embeddings")

    def _models_url(self) -> str:
        return f"{self.base_url}/openai/models?{self._version()}"

    def _max_tokens_field(self) -> str:
        return "max_tokens"

    def _model_in_body(self) -> bool:
        return False
