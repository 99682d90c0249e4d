"""A load's options in the few words events and the profiler show ("ctx 4096, gpu layers 20")."""

from __future__ import annotations

from lexitui.domain.backends import ModelLoadOptions


def describe_options(options: ModelLoadOptions) -> str:
    words = {
        "ctx": options.context_length,
        "gpu layers": options.gpu_layers,
        "threads": options.threads,
        "batch": options.batch_size,
        "main gpu": options.main_gpu,
        "rope base": options.rope_freq_base,
        "rope scale": options.rope_freq_scale,
        "flash attention": options.flash_attention,
        "kv cache": options.kv_cache_type,
        "engine": options.engine,
        "slots": options.parallel if options.parallel and options.parallel > 1 else None,
    }
    parts = [f"{k} {v}" for k, v in words.items() if v is not None]
    parts += [f"mmap {'on' if options.use_mmap else 'off'}"] if options.use_mmap is not None else []
    parts += ["mlock"] if options.use_mlock else []
    return ", ".join(parts) or "defaults"
