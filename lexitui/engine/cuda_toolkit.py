"""What a CUDA build of llama.cpp needs from this machine, found and described.

Besides ``nvcc`` and the CUDA runtime, ggml's CUDA backend links cuBLAS. A full toolkit install
has it; a toolkit assembled from Python wheels (``nvidia-cuda-nvcc`` and friends) may not, and
then cuBLAS can come from the ``nvidia-cublas`` wheel installed in this environment, whose
libraries carry only versioned names (``libcublas.so.13``). The driver library (``libcuda.so``)
is only on machines with an NVIDIA driver: without it, ggml's virtual-memory pool is built out
(``GGML_CUDA_NO_VMM``), which only costs some memory flexibility.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_DRIVER_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/aarch64-linux-gnu")


@dataclass(frozen=True)
class CudaToolkit:
    nvcc: Path
    version: str  # "13.0"
    cublas_include: Path | None  # where cublas_v2.h is, when it is not in the toolkit's own
    cublas_lib: Path | None
    in_toolkit: bool  # cuBLAS came with the toolkit
    driver_lib: bool  # libcuda.so is here (an NVIDIA driver, or the toolkit's stubs)

    @property
    def has_cublas(self) -> bool:
        return self.in_toolkit or (self.cublas_include is not None and self.cublas_lib is not None)

    def missing(self) -> list[str]:
        if self.has_cublas:
            return []
        wheel = f"nvidia-cublas=={self.version}.*" if self.version else "nvidia-cublas"
        return [
            "cuBLAS (install the full CUDA toolkit, or add it to lexitui's environment with "
            f"`{sys.executable} -m pip install '{wheel}'`)"
        ]

    def cmake_args(self, link_dir: Path) -> list[str]:
        args = [f"-DCMAKE_CUDA_COMPILER={self.nvcc}"]
        if not self.driver_lib:
            args.append("-DGGML_CUDA_NO_VMM=ON")
        if not self.in_toolkit and self.cublas_include and self.cublas_lib:
            # The linker wants unversioned names: give it links to the wheel's libraries, and
            # the binary a run path to the wheel's folder itself.
            link_dir.mkdir(parents=True, exist_ok=True)
            for versioned in self.cublas_lib.glob("libcublas*.so.*"):
                plain = link_dir / versioned.name.split(".so")[0]
                plain.with_suffix(".so").unlink(missing_ok=True)
                plain.with_suffix(".so").symlink_to(versioned)
            include = f"-I{self.cublas_include}"
            args += [
                f"-DCMAKE_LIBRARY_PATH={link_dir}",
                f"-DCMAKE_CUDA_FLAGS={include}",
                f"-DCMAKE_CXX_FLAGS={include}",
                f"-DCMAKE_BUILD_RPATH={self.cublas_lib}",
            ]
        return args


def find_cuda_toolkit() -> CudaToolkit | None:
    """The CUDA toolkit ``nvcc`` on PATH belongs to, or None when there is no nvcc."""
    found = shutil.which("nvcc")
    if found is None:
        return None
    nvcc = _real_nvcc(Path(found))
    root = nvcc.parent.parent
    includes = [root / "include", *sorted(root.glob("targets/*/include"))]
    in_toolkit = any((d / "cublas_v2.h").is_file() for d in includes)
    include, lib = (None, None) if in_toolkit else _cublas_wheel()
    stubs = [root / "lib64" / "stubs", *sorted(root.glob("targets/*/lib/stubs"))]
    driver = any((d / "libcuda.so").exists() for d in [*stubs, *map(Path, _DRIVER_DIRS)])
    return CudaToolkit(nvcc, _version(nvcc), include, lib, in_toolkit, driver)


def _real_nvcc(nvcc: Path) -> Path:
    """The real compiler behind a link or a one-line ``exec`` wrapper script."""
    real = Path(os.path.realpath(nvcc))
    try:
        text = real.read_text(encoding="utf-8", errors="strict")[:400]
    except (OSError, UnicodeDecodeError):
        return real  # a binary: the compiler itself
    match = re.search(r'exec\s+"?(/\S+/nvcc)"?', text)
    return Path(match[1]) if match else real


def _version(nvcc: Path) -> str:
    try:
        text = subprocess.run(
            [str(nvcc), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"release (\d+\.\d+)", text)
    return match[1] if match else ""


def _cublas_wheel() -> tuple[Path | None, Path | None]:
    """cuBLAS from the ``nvidia-cublas`` wheel in this environment (cu13 or cu12 layout)."""
    for entry in map(Path, sys.path):
        for folder in (entry / "nvidia" / "cu13", entry / "nvidia" / "cublas"):
            if (folder / "include" / "cublas_v2.h").is_file():
                return folder / "include", folder / "lib"
    return None, None
