"""Small pure pieces: message cleaning, request bodies, Prometheus sums, /v1/models rows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lexitui.backends.errors import BackendError, clean_text
from lexitui.backends.openai_compat import model_of
from lexitui.backends.openai_instance import chat_body
from lexitui.backends.prometheus import metric_sums
from lexitui.domain.backends import GenerationRequest


@given(st.text(max_size=500))
def test_cleaned_text_is_one_printable_bounded_line(text: str) -> None:
    cleaned = clean_text(text)
    assert len(cleaned) <= 300
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in cleaned)
    assert "\n" not in cleaned and "\x1b" not in cleaned


def test_error_message_names_backend_endpoint_and_reason() -> None:
    error = BackendError("vllm", "http://h:8000/v1", "model\x1b[31m gone", status_code=404)
    assert str(error) == "vllm (http://h:8000/v1): model\\x1b[31m gone"
    assert error.detail == "model\\x1b[31m gone" and error.status_code == 404


def test_chat_body_sends_only_what_was_set() -> None:
    body = chat_body("m", GenerationRequest(prompt="hi"))
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    full = chat_body(
        "m",
        GenerationRequest(prompt="hi", system_prompt="be brief", repetition_penalty=1.2),
        "repeat_penalty",
    )
    assert full["messages"][0] == {"role": "system", "content": "be brief"}
    assert full["repeat_penalty"] == 1.2
    assert "repeat_penalty" not in chat_body("m", GenerationRequest(repetition_penalty=1.2))


def test_prometheus_sums_by_name_and_skips_junk() -> None:
    text = (
        "# HELP x y\n"
        'vllm:num_requests_running{model_name="a",le="+Inf"} 2\n'
        "vllm:num_requests_running 1.5e0\n"
        "vllm:num_requests_running{broken\n"
        "vllm:num_requests_running NaN\n"
        "vllm:num_requests_waiting_total 7\n"
        "garbage line here\n"
    )
    assert metric_sums(text, {"vllm:num_requests_running", "vllm:num_requests_waiting"}) == {
        "vllm:num_requests_running": 3.5
    }


def test_v1_models_rows_with_and_without_llamacpp_meta() -> None:
    plain = model_of({"id": "qwen2.5-7b-instruct", "object": "model"})
    assert (plain.id, plain.name, plain.size_bytes, plain.loaded) == (
        "qwen2.5-7b-instruct",
        "qwen2.5-7b-instruct",
        None,
        None,
    )
    rich = model_of(
        {
            "id": "models/a/SmolLM2.Q4_1.gguf",
            "meta": {"size": 96576768, "n_params": 134515008, "ftype": "Q4_1", "n_ctx_train": 8192},
        }
    )
    assert (rich.name, rich.parameter_size, rich.quantization, rich.context_length) == (
        "SmolLM2.Q4_1.gguf",
        "135M",
        "Q4_1",
        8192,
    )
