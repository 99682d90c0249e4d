"""The vLLM deployment plan for 1, 2 and 4 hosts, checked against the flags vLLM documents:
``vllm serve MODEL --tensor-parallel-size N`` on one node; on several, ``ray start --head
--port=P`` on the head, ``ray start --address=HEAD:P`` on each worker (both with ``--block``, so
each is one process lexitui can start and stop over SSH), and ``vllm serve MODEL
--tensor-parallel-size GPUS_PER_NODE --pipeline-parallel-size NODES --distributed-executor-backend
ray`` on the head. A plan vLLM would refuse is one line.
"""

from __future__ import annotations

import json

import pytest

from lexitui.cli import main
from lexitui.engine.vllm_plan import VllmHost, VllmPlanError, plan_vllm

MODEL = "meta-llama/Llama-3.1-405B-Instruct"


def lines(plan_hosts: list[VllmHost], **kwargs: object) -> list[tuple[str, str]]:
    plan = plan_vllm(MODEL, plan_hosts, **kwargs)  # type: ignore[arg-type]
    return [(c.host, c.text) for c in plan.commands]


def test_one_host_serves_with_tensor_parallelism_over_its_gpus() -> None:
    assert lines([VllmHost("gpu1", 4)]) == [
        ("gpu1", f"vllm serve {MODEL} --tensor-parallel-size 4"),
    ]
    plan = plan_vllm(MODEL, [VllmHost("gpu1", 4)])
    assert (plan.tensor_parallel_size, plan.pipeline_parallel_size) == (4, 1)
    assert plan.endpoint == "http://gpu1:8000/v1"


def test_two_hosts_join_a_ray_cluster_and_split_the_pipeline_over_nodes() -> None:
    hosts = [VllmHost("10.0.0.1", 8), VllmHost("10.0.0.2", 8)]
    assert lines(hosts) == [
        ("10.0.0.1", "ray start --block --head --port=6379"),
        ("10.0.0.2", "ray start --block --address=10.0.0.1:6379"),
        (
            "10.0.0.1",
            f"vllm serve {MODEL} --tensor-parallel-size 8 --pipeline-parallel-size 2 "
            "--distributed-executor-backend ray",
        ),
    ]


def test_four_hosts_with_host_port_and_a_key_named_by_its_variable() -> None:
    hosts = [VllmHost(f"node{i}", 2) for i in range(4)]
    got = lines(hosts, port=9000, bind="10.1.0.1", api_key_env="VLLM_API_KEY", ray_port=6380)
    assert got == [
        ("node0", "ray start --block --head --port=6380"),
        ("node1", "ray start --block --address=node0:6380"),
        ("node2", "ray start --block --address=node0:6380"),
        ("node3", "ray start --block --address=node0:6380"),
        (
            "node0",
            f"vllm serve {MODEL} --tensor-parallel-size 2 --pipeline-parallel-size 4 "
            "--distributed-executor-backend ray --host 10.1.0.1 --port 9000 "
            '--api-key "$VLLM_API_KEY"',
        ),
    ]
    plan = plan_vllm(MODEL, hosts, api_key_env="VLLM_API_KEY")
    assert "$VLLM_API_KEY" not in " ".join(plan.commands[-1].argv)  # the key is never a word


@pytest.mark.parametrize(
    ("model", "hosts", "kwargs", "says"),
    [
        (MODEL, [VllmHost("a", 4), VllmHost("b", 2)], {}, "same number of GPUs on every node"),
        (MODEL, [], {}, "no hosts"),
        (MODEL, [VllmHost("a", 0)], {}, "a has 0 GPUs"),
        (MODEL, [VllmHost("a", 1), VllmHost("a", 1)], {}, "named twice"),
        ("--trust-remote-code", [VllmHost("a", 1)], {}, "is not a model id"),
        ("m; rm -rf ~", [VllmHost("a", 1)], {}, "is not a model id"),
        (MODEL, [VllmHost("a b", 1)], {}, "is not a host name"),
        (MODEL, [VllmHost("a", 1)], {"port": 70000}, "port must be 1 to 65535"),
        (MODEL, [VllmHost("a", 1)], {"api_key_env": "$(x)"}, "not an environment variable"),
    ],
)
def test_plans_vllm_would_refuse_are_refused_with_the_reason(
    model: str, hosts: list[VllmHost], kwargs: dict[str, object], says: str
) -> None:
    with pytest.raises(VllmPlanError) as info:
        plan_vllm(model, hosts, **kwargs)  # type: ignore[arg-type]
    assert says in str(info.value) and "\n" not in str(info.value)


def test_notes_say_what_the_plan_leaves_open() -> None:
    plan = plan_vllm(MODEL, [VllmHost("a", 2, 80 << 30), VllmHost("b", 2, 24 << 30)])
    assert "GPUs differ in memory: each holds an equal share, so 24.0 GiB sets it" in plan.notes
    assert "no API key: anyone who reaches the port can use the server" in plan.notes
    assert any("private network" in n for n in plan.notes)
    local = plan_vllm(MODEL, [VllmHost("a", 1)], bind="127.0.0.1")
    assert local.notes == ()


def test_the_cli_prints_the_commands_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["vllm", "plan", MODEL, "--host", "h1:4:80G", "--host", "h2:4:80G"]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["h1", "$", "ray", "start", "--block", "--head", "--port=6379"]
    assert out[2].split() == ["h2", "$", "ray", "start", "--block", "--address=h1:6379"]
    assert out[3].endswith("--pipeline-parallel-size 2 --distributed-executor-backend ray")
    assert out[4] == "then: lexitui backend add NAME http://h1:8000/v1 --type vllm"
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["role"] for c in data["commands"]] == ["ray head", "ray worker", "vllm server"]
    assert data["commands"][2]["argv"][:5] == [
        "vllm",
        "serve",
        MODEL,
        "--tensor-parallel-size",
        "4",
    ]


@pytest.mark.parametrize(
    ("hosts", "says"),
    [
        (["--host", "h1:4", "--host", "h2:2"], "same number of GPUs on every node"),
        (["--host", "h1"], "is not NAME:GPUS[:MEMORY]"),
        (["--host", "h1:4:lots"], "is not a size"),
    ],
)
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], hosts: list[str], says: str
) -> None:
    assert main(["vllm", "plan", MODEL, *hosts]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and says in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
