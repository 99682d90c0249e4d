"""API keys (K1-K4): stored 0600 in a 0700 folder, the environment wins, never in errors or
reprs, never sent to a host a redirect points at; and the factory that uses them."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from lexitui.domain.language_model import LanguageModelRequest
from lexitui.routing.cloud_anthropic import AnthropicProvider
from lexitui.routing.cloud_azure import AzureOpenAIProvider
from lexitui.routing.cloud_base import CloudProvider
from lexitui.routing.cloud_factory import build_cloud_provider, key_status
from lexitui.routing.cloud_openai import OpenAIProvider
from lexitui.routing.errors import FailureKind, ProviderError
from lexitui.routing.keys import KeyStore, redact
from lexitui.routing.settings import ProviderSettings
from tests.fakes.cloud_anthropic import FakeAnthropic
from tests.fakes.cloud_common import FakeCloud
from tests.fakes.cloud_openai import FakeOpenAI

SECRET = "sk-live-K3yThatMustNeverLeak0123456789"
ASK = LanguageModelRequest(prompt="hello")


def openai_settings(base_url: str = "http://127.0.0.1:9/v1") -> ProviderSettings:
    return ProviderSettings(
        id="openai", kind="openai", base_url=base_url, model="gpt-4o-mini", api_key_env="MY_OAI_KEY"
    )


def test_stored_key_file_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir(mode=0o755)
    config.chmod(0o755)  # an existing, too-open folder is tightened
    store = KeyStore(config, environ={})
    store.set("openai", SECRET)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.stat().st_mode) == 0o700
    assert [p.name for p in config.iterdir()] == ["keys.toml"]  # no temp file left behind
    fresh = KeyStore(tmp_path / "new" / "config", environ={})
    fresh.set("openai", SECRET)
    assert stat.S_IMODE(fresh.path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(fresh.path.stat().st_mode) == 0o600


def test_environment_beats_stored_key(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    store = KeyStore(tmp_path, environ=env)
    settings = openai_settings()
    assert store.get(settings) == (None, "none")
    store.set("openai", "sk-stored-111111")
    assert store.get(settings) == ("sk-stored-111111", "stored")
    env["MY_OAI_KEY"] = "sk-from-env-22222"
    assert store.get(settings) == ("sk-from-env-22222", "env MY_OAI_KEY")
    env["MY_OAI_KEY"] = "  "  # set but blank: not a key
    assert store.get(settings) == ("sk-stored-111111", "stored")


def test_set_delete_and_odd_ids_round_trip(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, environ={})
    store.set('my "odd" id', "sk-quote\\slash-ünï")
    store.set("openai", "sk-one-xxxx")
    assert store.stored_ids() == ['my "odd" id', "openai"]
    odd = ProviderSettings(id='my "odd" id', kind="openai_compatible", base_url="http://x")
    assert store.get(odd) == ("sk-quote\\slash-ünï", "stored")
    assert store.delete("openai") and not store.delete("openai")
    assert store.stored_ids() == ['my "odd" id']
    with pytest.raises(ValueError):
        store.set("openai", "sk-with\nnewline")
    with pytest.raises(ValueError):
        store.set("openai", "   ")


def test_broken_key_file_error_does_not_quote_the_key(tmp_path: Path) -> None:
    (tmp_path / "keys.toml").write_text(f"openai = {SECRET}\n")
    store = KeyStore(tmp_path, environ={})
    with pytest.raises(ValueError) as caught:
        store.get(openai_settings())
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(store)


def test_redact() -> None:
    assert redact(f"bad key {SECRET}!", SECRET) == "bad key ***!"
    assert redact("text", None) == "text"


def _providers(fake: FakeCloud, key: str) -> list[CloudProvider]:
    if isinstance(fake, FakeAnthropic):
        settings = ProviderSettings(
            id="anthropic", kind="anthropic", base_url=fake.base_url, model="claude-x"
        )
        return [AnthropicProvider(settings, key)]
    assert isinstance(fake, FakeOpenAI)
    azure = ProviderSettings(
        id="azure", kind="azure", base_url=fake.azure_url, model="gpt-4o", api_version="2024-10-21"
    )
    return [
        OpenAIProvider(openai_settings(fake.base_url), key),
        AzureOpenAIProvider(azure, key),
    ]


@pytest.mark.parametrize("fake_type", [FakeOpenAI, FakeAnthropic])
async def test_key_never_in_errors_or_repr(fake_type: type[FakeCloud]) -> None:
    async with fake_type() as fake:
        fake.echo_key = True  # the server quotes the wrong key back in full
        for provider in _providers(fake, SECRET):
            with pytest.raises(ProviderError) as caught:
                await provider.generate(ASK)
            with pytest.raises(ProviderError) as streamed:
                _ = [c async for c in provider.stream(ASK)]
            await provider.aclose()
            for err in (caught.value, streamed.value):
                assert err.kind is FailureKind.AUTH
                assert SECRET not in str(err) and SECRET not in repr(err)
                assert SECRET not in err.message and "***" in err.message
            assert SECRET not in repr(provider) and "key=set" in repr(provider)
            assert SECRET not in str(vars(provider).get("_client"))


@pytest.mark.parametrize("fake_type", [FakeOpenAI, FakeAnthropic])
async def test_redirect_to_another_host_is_not_followed(fake_type: type[FakeCloud]) -> None:
    async with fake_type() as elsewhere, fake_type() as cloud:
        cloud.redirect_to = elsewhere.origin
        for provider in _providers(cloud, SECRET):
            with pytest.raises(ProviderError) as caught:
                await provider.generate(ASK)
            await provider.aclose()
            assert caught.value.kind is FailureKind.SERVER_ERROR and caught.value.status == 307
            assert "redirect" in caught.value.message
        assert cloud.requests and elsewhere.requests == []  # the key never reached it


async def test_factory_picks_class_and_key_by_kind(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, environ={"MY_OAI_KEY": "sk-env-3333"})
    store.set("anthropic", "sk-ant-stored-4444")
    anthropic = ProviderSettings(id="anthropic", kind="anthropic", base_url="http://x", model="c")
    compat = ProviderSettings(id="vllm", kind="openai_compatible", base_url="http://x/v1")
    azure = ProviderSettings(id="az", kind="azure", base_url="http://x", api_version="v", model="m")
    built = [build_cloud_provider(s, store) for s in (openai_settings(), anthropic, compat, azure)]
    assert [type(p).__name__ for p in built] == [
        "OpenAIProvider",
        "AnthropicProvider",
        "OpenAIProvider",
        "AzureOpenAIProvider",
    ]
    assert [p.available_now()[0] for p in built] == [True, True, False, False]
    assert built[2].available_now() == (False, "no model configured")
    assert built[3].available_now()[1].startswith("no API key (store one for az")
    rows = [key_status(s, store) for s in (openai_settings(), anthropic, compat, azure)]
    assert [r.key_source for r in rows] == ["env MY_OAI_KEY", "stored", "none", "none"]
    assert [r.ready for r in rows] == [True, True, False, False]
    assert all("sk-" not in repr(r) for r in rows)
    for provider in built:
        await provider.aclose()
