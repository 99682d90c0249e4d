"""BackendManager: the backend set, custom endpoints and the preferred one persisted in the config
file, input validation, and the hybrid rule (system Ollama first, else offer the embedded engine).
"""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lexitui.backends.errors import InvalidBackendConfig, UnknownBackend
from lexitui.backends.local_models import registry_catalog, registry_resolver
from lexitui.backends.manager import BackendManager
from lexitui.backends.ollama import OllamaBackend
from lexitui.backends.openai_compat import VllmBackend
from lexitui.backends.settings import NAME_PATTERN, check_name, check_url
from lexitui.config import ConfigError, Paths
from lexitui.domain.enums import BackendStatus, InferenceBackendType
from lexitui.events import BackendStatusChanged
from lexitui.services import Services
from lexitui.storage.starter import STARTER_ID
from tests.backends.servers import ScriptedServer
from tests.backends.test_health import healthy
from tests.fakes import fake_ollama
from tests.home_config import write_test_config

BUILT_IN = ["ollama", "llamacpp", "lm-studio", "vllm", "localai", "text-generation-webui"]


def closed_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_built_ins_in_the_roadmap_order(paths: Paths) -> None:
    async with BackendManager(paths, environ={}) as manager:
        assert [b.name for b in manager.backends()] == BUILT_IN
        assert manager.get("ollama").endpoint == "http://127.0.0.1:11434"
        assert manager.managed.managed and manager.managed.endpoint == ""
        with pytest.raises(UnknownBackend, match="no backend named 'nope'"):
            manager.get("nope")


async def test_custom_backends_and_preferred_persist_in_the_config(paths: Paths) -> None:
    async with BackendManager(paths) as manager:
        added = manager.add_custom("gpu-box", "http://10.0.0.5:8000/v1/", "vllm", "GPU_BOX_KEY")
        assert isinstance(added, VllmBackend) and added.endpoint == "http://10.0.0.5:8000/v1"
        manager.add_custom("lab", "https://lab.example:11434", InferenceBackendType.OLLAMA)
        manager.set_preferred("gpu-box")
    stored = tomllib.loads(paths.config_file.read_text())["backends"]
    assert stored["custom"] == ["gpu-box", "lab"] and stored["preferred"] == "gpu-box"
    assert stored["gpu-box.api_key_env"] == "GPU_BOX_KEY"

    async with BackendManager(paths) as reloaded:
        assert reloaded.preferred_name == "gpu-box"
        box, lab = reloaded.get("gpu-box"), reloaded.get("lab")
        assert isinstance(box, VllmBackend) and box.transport.api_key_env == "GPU_BOX_KEY"
        assert isinstance(lab, OllamaBackend) and lab.endpoint == "https://lab.example:11434"
        await reloaded.remove_custom("gpu-box")
        assert reloaded.preferred_name is None, "removing the preferred backend clears it"
    async with BackendManager(paths) as again:
        assert [b.name for b in again.backends()] == [*BUILT_IN, "lab"]


async def test_bad_input_is_a_clear_value_error(paths: Paths) -> None:
    before = paths.config_file.read_text(encoding="utf-8")
    async with BackendManager(paths) as manager:
        cases = [
            (("Bad Name", "http://h:1"), "invalid backend name"),
            (("ok", "ftp://h:1"), "use http://host:port"),
            (("ok", "http://user:pw@h:1"), "credentials in an env var"),
            (("ok", "http://h:1/?token=x"), "no query"),
            (("ollama", "http://h:1"), "already exists"),
            (("ok", "not a url"), "invalid URL"),
        ]
        for (name, url), message in cases:
            with pytest.raises(InvalidBackendConfig, match=message):
                manager.add_custom(name, url)
        with pytest.raises(InvalidBackendConfig, match="unknown backend type 'gpt'"):
            manager.add_custom("ok", "http://h:1", "gpt")
        with pytest.raises(InvalidBackendConfig, match="environment variable name"):
            manager.add_custom("ok", "http://h:1", api_key_env="sk-live-123")
        with pytest.raises(InvalidBackendConfig, match="built in"):
            await manager.remove_custom("ollama")
        with pytest.raises(UnknownBackend):
            await manager.remove_custom("ghost")
        with pytest.raises(UnknownBackend):
            manager.set_preferred("ghost")
        assert issubclass(InvalidBackendConfig, ValueError)
    assert paths.config_file.read_text(encoding="utf-8") == before, "nothing was saved"


async def test_a_broken_backends_section_names_the_file(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, '[backends]\ncustom = ["x"]\n"x.url" = "gopher://h"\n')
    with pytest.raises(ConfigError, match=r"config\.toml: \[backends\] invalid URL"):
        BackendManager(paths)


async def test_a_hand_written_nested_table_is_read(paths: Paths) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    write_test_config(paths.config_file, '[backends]\ncustom = ["x"]\nx.url = "http://h:9"\n')
    async with BackendManager(paths) as manager:
        assert manager.get("x").endpoint == "http://h:9"


@given(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,31}", fullmatch=True))
def test_every_allowed_name_is_accepted(name: str) -> None:
    assert check_name(name) == name


@given(st.text(max_size=40).filter(lambda s: not NAME_PATTERN.fullmatch(s)))
def test_names_outside_the_allowlist_are_refused(name: str) -> None:
    with pytest.raises(InvalidBackendConfig):
        check_name(name)


def test_urls_are_normalised() -> None:
    assert check_url(" http://h:1234/v1/ ") == "http://h:1234/v1"


async def test_hybrid_rule_prefers_system_ollama(paths: Paths) -> None:
    async with (
        fake_ollama() as fake,
        BackendManager(paths, environ={"OLLAMA_HOST": fake.base_url}) as manager,
    ):
        choice = await manager.choose()
        assert choice.backend is manager.get("ollama") and not choice.offer_embedded
        assert choice.reason == f"Ollama found at {fake.base_url}"
        assert [b.name for b in await manager.available()] == ["ollama"]


async def test_hybrid_rule_offers_the_embedded_engine_when_nothing_runs(paths: Paths) -> None:
    url = closed_url()
    async with BackendManager(paths, environ={"OLLAMA_HOST": url}) as manager:
        choice = await manager.choose()
        assert choice.backend is None and choice.offer_embedded
        assert f"not found at {url[7:]} (connection refused)" in choice.reason
        assert await manager.preferred() is None


async def test_the_preferred_backend_wins_when_it_is_up(paths: Paths) -> None:
    async with (
        fake_ollama() as fake,
        ScriptedServer(healthy) as other,
        BackendManager(paths, environ={"OLLAMA_HOST": fake.base_url}) as manager,
    ):
        manager.add_custom("other", other.url)
        manager.set_preferred("other")
        assert (await manager.choose()).backend is manager.get("other")
        await other.stop()
        choice = await manager.choose()  # preferred is down: back to the hybrid rule
        assert choice.backend is manager.get("ollama")


async def test_status_stream_and_reports(paths: Paths) -> None:
    async with (
        ScriptedServer(healthy) as server,
        BackendManager(paths, environ={"OLLAMA_HOST": closed_url()}) as manager,
    ):
        manager.add_custom("box", server.url)
        events: list[BackendStatusChanged] = []
        manager.status_changes.subscribe(events.append)
        reports = {r.name: r for r in await manager.reports()}
        box = reports["box"]
        assert box.health.status is BackendStatus.RUNNING and box.model_count == 1
        assert box.version == "unknown" and not box.managed
        assert reports["llamacpp"].health.message == "not started"
        assert reports["ollama"].health.status is BackendStatus.STOPPED
        names = {e.name for e in events}
        assert {"box", "ollama", "llamacpp"} <= names
        latest = manager.health("box")
        assert latest is not None and latest.status is BackendStatus.RUNNING
        assert latest.message == "1 model(s)", "later requests keep the check's message"


async def test_installed_models_resolve_and_list_for_the_managed_engine(
    services: Services,
) -> None:
    resolve = registry_resolver(services.registry)
    assert (await resolve(STARTER_ID)).name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    (starter,) = await registry_catalog(services.registry)()
    assert starter.id == STARTER_ID and starter.loaded is False and starter.format == "gguf"
    with pytest.raises(LookupError):
        await resolve("not-installed")
