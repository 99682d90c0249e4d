"""OLLAMA_HOST read the way the Ollama CLI reads it, and our options in Ollama's names."""

from __future__ import annotations

import pytest

from lexitui.backends.errors import InvalidBackendConfig
from lexitui.backends.ollama_host import ollama_base_url
from lexitui.backends.ollama_records import load_options, parse_time, sampling_options
from lexitui.domain.backends import GenerationRequest, ModelLoadOptions


@pytest.mark.parametrize(
    ("value", "url"),
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        (":8080", "http://127.0.0.1:8080"),
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:9999", "http://gpu-box:9999"),
        ("http://gpu-box:9999", "http://gpu-box:9999"),
        ("http://gpu-box", "http://gpu-box:80"),
        ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("https://ollama.example.com/proxy/", "https://ollama.example.com:443/proxy"),
        ("[::1]:4000", "http://[::1]:4000"),
        ("[::]:4000", "http://[::1]:4000"),
        ("::1", "http://[::1]:11434"),
        ("host:notaport", "http://host:11434"),
        ("host:99999", "http://host:11434"),
        ("  10.0.0.5:11434  ", "http://10.0.0.5:11434"),
    ],
)
def test_ollama_host_forms(value: str | None, url: str) -> None:
    assert ollama_base_url(value) == url


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(InvalidBackendConfig, match="unsupported scheme 'ftp'"):
        ollama_base_url("ftp://host")


def test_load_options_use_ollama_names_and_only_what_was_chosen() -> None:
    assert load_options(ModelLoadOptions()) == {}
    chosen = ModelLoadOptions(
        context_length=8192,
        gpu_layers=20,
        threads=6,
        batch_size=256,
        use_mmap=False,
        use_mlock=True,
        main_gpu=1,
        rope_freq_base=10000.0,
        rope_freq_scale=0.5,
    )
    assert load_options(chosen) == {
        "num_gpu": 20,
        "num_ctx": 8192,
        "num_thread": 6,
        "num_batch": 256,
        "use_mmap": False,
        "use_mlock": True,
        "main_gpu": 1,
        "rope_frequency_base": 10000.0,
        "rope_frequency_scale": 0.5,
    }
    assert "num_gpu" not in load_options(ModelLoadOptions(gpu_layers=-1)), "all = Ollama's auto"
    assert load_options(ModelLoadOptions(gpu_layers=0)) == {"num_gpu": 0}


def test_sampling_options() -> None:
    request = GenerationRequest(
        prompt="x", max_tokens=5, top_k=40, repetition_penalty=1.1, stop=("\n",), seed=0
    )
    assert sampling_options(request) == {
        "num_predict": 5,
        "top_k": 40,
        "repeat_penalty": 1.1,
        "seed": 0,
        "stop": ["\n"],
    }


def test_go_timestamps_with_nanoseconds() -> None:
    when = parse_time("2024-06-01T10:11:12.123456789-07:00")
    assert when is not None and when.microsecond == 123456 and when.utcoffset() is not None
    assert parse_time("2318-01-01T00:00:00Z") is not None
    assert parse_time("yesterday") is None and parse_time(None) is None
