"""The commands that serve a Hugging Face model with vLLM on one machine or several, planned from
the hosts' GPUs and shown before anything runs.

vLLM's own rule (its "parallelism and scaling" guide): a model that fits on one node runs with
tensor parallelism over that node's GPUs (``vllm serve MODEL --tensor-parallel-size N``); a model
bigger than one node adds pipeline parallelism over nodes joined into a Ray cluster, with the
tensor-parallel size set to the GPUs of one node and the pipeline-parallel size to the number of
nodes (``ray start --head`` on the head, ``ray start --address=HEAD:PORT`` on each worker, then
``vllm serve ... --distributed-executor-backend ray`` on the head). Every node then runs the same
number of GPUs, so hosts with different GPU counts are refused rather than half used in silence.

Ray's nodes start with ``--block``: each stays in the foreground as one long-running process, so
``lexitui remote start`` can run it over SSH and ``remote stop`` ends it (without it, ``ray start``
hands its node to background daemons and exits at once).

Pure: no process starts here. A key for the server is named by an environment variable and
expanded by the shell on the host, so it never appears in the plan, a log or a screen.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from lexitui.domain.units import format_bytes

DEFAULT_PORT = 8000  # vllm serve's own default
RAY_PORT = 6379  # ray start --head's own default
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]*")
_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class VllmPlanError(ValueError):
    """A deployment vLLM would refuse (or that could not be run as asked); one line says why."""


@dataclass(frozen=True)
class VllmHost:
    """A machine to run on: ``name`` is how the other hosts reach it (name or IPv4 address)."""

    name: str
    gpus: int
    gpu_memory_bytes: int | None = None  # per GPU, when known


@dataclass(frozen=True)
class PlannedCommand:
    host: str
    role: str  # "ray head", "ray worker" or "vllm server"
    argv: tuple[str, ...]
    api_key_env: str | None = None  # appended as --api-key "$VAR", expanded on the host

    @property
    def text(self) -> str:
        """The command as a shell line: quoted where needed, the key left to the host's shell."""
        line = shlex.join(self.argv)
        return f'{line} --api-key "${self.api_key_env}"' if self.api_key_env else line


@dataclass(frozen=True)
class VllmPlan:
    model: str
    tensor_parallel_size: int
    pipeline_parallel_size: int
    commands: tuple[PlannedCommand, ...]
    endpoint: str  # the OpenAI-compatible API, to add as a vllm backend
    notes: tuple[str, ...] = field(default=())


def plan_vllm(
    model: str,
    hosts: list[VllmHost],
    *,
    port: int = DEFAULT_PORT,
    bind: str | None = None,
    api_key_env: str | None = None,
    ray_port: int = RAY_PORT,
) -> VllmPlan:
    """The commands for ``model`` on ``hosts`` (the first is the head). ``bind`` is the address
    the server listens on (vLLM's default: every interface); ``api_key_env`` names the variable
    holding the key clients must send. Raises ``VllmPlanError``."""
    _check(model, hosts, port, bind, api_key_env, ray_port)
    head = hosts[0]
    serve = ["vllm", "serve", model, "--tensor-parallel-size", str(head.gpus)]
    commands: list[PlannedCommand] = []
    if len(hosts) > 1:
        serve += ["--pipeline-parallel-size", str(len(hosts))]
        serve += ["--distributed-executor-backend", "ray"]
        commands.append(
            PlannedCommand(
                head.name, "ray head", ("ray", "start", "--block", "--head", f"--port={ray_port}")
            )
        )
        address = f"--address={head.name}:{ray_port}"
        commands += [
            PlannedCommand(h.name, "ray worker", ("ray", "start", "--block", address))
            for h in hosts[1:]
        ]
    if bind is not None:
        serve += ["--host", bind]
    if port != DEFAULT_PORT:
        serve += ["--port", str(port)]
    commands.append(PlannedCommand(head.name, "vllm server", tuple(serve), api_key_env))
    return VllmPlan(
        model=model,
        tensor_parallel_size=head.gpus,
        pipeline_parallel_size=len(hosts),
        commands=tuple(commands),
        endpoint=f"http://{head.name}:{port}/v1",
        notes=_notes(hosts, bind, api_key_env),
    )


def _check(
    model: str,
    hosts: list[VllmHost],
    port: int,
    bind: str | None,
    api_key_env: str | None,
    ray_port: int,
) -> None:
    if not _WORD.fullmatch(model):
        raise VllmPlanError(f"{model!r} is not a model id (e.g. Qwen/Qwen2.5-7B-Instruct)")
    if not hosts:
        raise VllmPlanError("no hosts: give at least one as NAME:GPUS")
    names = [h.name for h in hosts]
    for host in hosts:
        if not _HOST.fullmatch(host.name):
            raise VllmPlanError(f"{host.name!r} is not a host name or IPv4 address")
        if host.gpus < 1:
            raise VllmPlanError(f"{host.name} has {host.gpus} GPUs: vLLM needs at least one")
    if len(set(names)) != len(names):
        raise VllmPlanError(f"a host is named twice: {', '.join(names)}")
    counts = sorted({h.gpus for h in hosts})
    if len(counts) > 1:
        listed = ", ".join(f"{h.name} {h.gpus}" for h in hosts)
        raise VllmPlanError(
            f"vLLM needs the same number of GPUs on every node (tensor parallel size = GPUs per "
            f"node), these have {listed}: give each host {counts[0]}"
        )
    for label, number in (("port", port), ("Ray port", ray_port)):
        if not 0 < number < 65536:
            raise VllmPlanError(f"the {label} must be 1 to 65535, not {number}")
    if bind is not None and not _HOST.fullmatch(bind):
        raise VllmPlanError(f"{bind!r} is not an address to listen on")
    if api_key_env is not None and not _ENV_VAR.fullmatch(api_key_env):
        raise VllmPlanError(f"{api_key_env!r} is not an environment variable name")


def _notes(hosts: list[VllmHost], bind: str | None, api_key_env: str | None) -> tuple[str, ...]:
    notes: list[str] = []
    memories = {h.gpu_memory_bytes for h in hosts if h.gpu_memory_bytes is not None}
    if len(memories) > 1:
        # Tensor and pipeline parallelism give every GPU an equal share of the weights.
        smallest = format_bytes(min(memories))
        notes.append(f"GPUs differ in memory: each holds an equal share, so {smallest} sets it")
    if memories and len(memories) == 1 and all(h.gpu_memory_bytes for h in hosts):
        total = sum(h.gpus for h in hosts) * min(memories)
        notes.append(f"{format_bytes(total)} of GPU memory in all, for weights and KV cache")
    if api_key_env is None and bind not in ("127.0.0.1", "localhost"):
        notes.append("no API key: anyone who reaches the port can use the server")
    if len(hosts) > 1:
        notes.append("Ray's ports carry no authentication: keep the nodes on a private network")
    return tuple(notes)
