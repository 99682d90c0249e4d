"""The Hub's error answers: status, ``{"error": ...}`` body and the ``X-Error-Code`` /
``X-Error-Message`` headers that ``huggingface_hub.utils.hf_raise_for_status`` turns into its
exception types (RepositoryNotFoundError, GatedRepoError, EntryNotFoundError, ...)."""

from __future__ import annotations

from tests.fakes.ollama_http import Response, json_response


def hub_error(status: int, message: str, code: str | None = None) -> Response:
    response = json_response(status, {"error": message})
    if code:
        response.headers["X-Error-Code"] = code
    response.headers["X-Error-Message"] = message
    return response


def repo_not_found(authenticated: bool) -> Response:
    # Without a token the Hub answers 401, so it never confirms that a private repo exists.
    return hub_error(404 if authenticated else 401, "Repository not found", "RepoNotFound")


def revision_not_found(revision: str) -> Response:
    return hub_error(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def entry_not_found(path: str, detail: str | None = None) -> Response:
    return hub_error(404, detail or f"Entry not found: {path}", "EntryNotFound")


def invalid_credentials() -> Response:
    return hub_error(401, "Invalid credentials in Authorization header")


def gated(repo_id: str, authenticated: bool, base_url: str) -> Response:
    if not authenticated:
        return hub_error(
            401,
            f"Access to model {repo_id} is restricted. You must have access to it and be "
            "authenticated to access it. Please log in.",
            "GatedRepo",
        )
    return hub_error(
        403,
        f"Access to model {repo_id} is restricted and you are not in the authorized list. "
        f"Visit {base_url}/{repo_id} to ask for access.",
        "GatedRepo",
    )


def rate_limited(retry_after: int) -> Response:
    response = hub_error(
        429,
        "You have been rate-limited; you can retry this action in about "
        f"{retry_after} seconds. If you're a new user, your limits will raise progressively "
        "over time. Get in touch with us at api-enterprise@huggingface.co if you need access "
        "to higher limits.",
    )
    response.headers["Retry-After"] = str(retry_after)
    # The IETF draft headers the Hub sends; huggingface_hub reads them for its own backoff.
    response.headers["RateLimit"] = f'"api";r=0;t={retry_after}'
    response.headers["RateLimit-Policy"] = '"fixed window";"api";q=500;w=300'
    return response


def bad_request(message: str) -> Response:
    return hub_error(400, message)
