"""The roadmap areas the app is organised by, and how far each one is built.

The dashboard, the help screen and the README all read this list, so what the app says about
itself stays true in one place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    mode: str
    title: str
    key: str
    roadmap: str
    built: bool
    status: str


AREAS: tuple[Area, ...] = (
    Area(
        "dashboard",
        "Dashboard",
        "1",
        "all",
        True,
        "Machine, models, local LLM status, routing mix, savings, live requests, budgets.",
    ),
    Area(
        "hardware",
        "Hardware",
        "2",
        "v0.16.1e/f/j",
        True,
        "CPU, RAM, disk and live GPU cards; which model sizes and quants fit; s edits settings.",
    ),
    Area(
        "backends",
        "Backends",
        "3",
        "v0.16.1g/h/i",
        True,
        "Ollama, the embedded llama.cpp engine, LM Studio, vLLM, LocalAI, TGW and your endpoints.",
    ),
    Area(
        "discover",
        "Discover",
        "4",
        "v0.16.2",
        True,
        "Search Hugging Face (and resolve Ollama library tags); fit badges before any download.",
    ),
    Area(
        "downloads",
        "Downloads",
        "5",
        "v0.16.3e/g/h/j",
        True,
        "Resumable, verified downloads: progress, pause, resume, cancel, retry, history.",
    ),
    Area(
        "models",
        "Models",
        "6",
        "v0.16.3f/i",
        True,
        "Installed and shared-library models, disk use, cleanup suggestions; Enter chats.",
    ),
    Area(
        "runtime",
        "Runtime",
        "7",
        "v0.16.4",
        True,
        "Several models loaded with chosen options; "
        "chat, context, snapshots, profiler, embeddings.",
    ),
    Area(
        "routing",
        "Routing",
        "8",
        "v0.16.5",
        True,
        "Local/cloud strategy per task, providers, budgets, live decision log, dry-run a prompt.",
    ),
    Area(
        "fleet",
        "Fleet",
        "9",
        "fleet",
        True,
        "Every host and its GPUs live: load, VRAM, temperature, models, health; i details.",
    ),
)


def area(mode: str) -> Area:
    for item in AREAS:
        if item.mode == mode:
            return item
    raise KeyError(mode)
