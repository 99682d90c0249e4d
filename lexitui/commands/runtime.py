"""``lexitui run``, ``ps``, ``unload``, ``embed`` and ``bench``: the runtime without the TUI.

``run MODEL PROMPT`` streams one answer; without PROMPT it is an interactive chat (``/bye`` or
Ctrl+D ends it, Ctrl+C stops the answer being written), saved as a conversation that ``chats``
lists and ``--continue ID`` carries on (``commands/chats.py``). Models stay loaded only as long
as the lexitui process that loaded them: ``ps`` lists the engines other lexitui processes (the
TUI, an interactive ``run``) serve, and ``unload`` stops them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from lexitui.commands.chats import ChatSaver, add_continue_option
from lexitui.commands.chats import add_parser as add_chats_parser
from lexitui.commands.rpc import RpcSplitError, add_rpc_options, rpc_load_options
from lexitui.commands.run_answer import answer, report
from lexitui.commands.runtime_options import add_generation_options, add_load_options
from lexitui.config import Paths
from lexitui.domain.backends import ModelLoadOptions
from lexitui.domain.chat import LocalChatMessage
from lexitui.domain.enums import ChatRole
from lexitui.domain.inference import (
    InvalidRequest,
    LocalEmbeddingRequest,
    LocalFormatType,
    LocalGenerationRequest,
    LocalResponseFormat,
)
from lexitui.domain.units import format_bytes
from lexitui.engine.state import live_engines
from lexitui.services import Services
from lexitui.store.conversations import ConversationNotFound


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="load a model and chat with it (one prompt, or interactive)")
    run.add_argument("model", help="installed model id (see `lexitui ls`)")
    run.add_argument("prompt", nargs="?", help="the prompt; leave out for an interactive chat")
    add_generation_options(run)
    add_load_options(run)
    add_rpc_options(run)
    run.add_argument("--json", action="store_true", help="print one JSON object at the end")
    add_continue_option(run)
    run.set_defaults(func=cmd_run)
    add_chats_parser(sub)  # the conversations ``run`` saves

    ps = sub.add_parser("ps", help="models loaded by running lexitui processes")
    ps.add_argument("--json", action="store_true")
    ps.set_defaults(func=cmd_ps)

    unload = sub.add_parser("unload", help="stop a model another lexitui process has loaded")
    unload.add_argument("model", nargs="?", help="model id (see `lexitui ps`)")
    unload.add_argument("--all", action="store_true", help="unload every loaded model")
    unload.set_defaults(func=cmd_unload)

    embed = sub.add_parser("embed", help="embed texts with a model (unit vectors by default)")
    embed.add_argument("model")
    embed.add_argument("texts", nargs="+", metavar="TEXT")
    embed.add_argument("--raw", action="store_true", help="do not normalise the vectors")
    embed.add_argument("--json", action="store_true", help="print the vectors as JSON")
    add_load_options(embed)
    embed.set_defaults(func=cmd_embed)

    bench = sub.add_parser("bench", help="measure a model's tokens/s and time to first token")
    bench.add_argument("model")
    bench.add_argument("--json", action="store_true")
    bench.add_argument(
        "--tokens",
        type=_bench_tokens,
        help="tokens each prompt may generate (default: the standard bench's; fewer run quicker)",
    )
    add_load_options(bench)
    bench.set_defaults(func=cmd_bench)


def _bench_tokens(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if not 1 <= value <= 4096:
        raise argparse.ArgumentTypeError("--tokens must be a number from 1 to 4096")
    return value


# --- run ------------------------------------------------------------------------------------


def generation_request(args: argparse.Namespace, **fields: Any) -> LocalGenerationRequest:
    fmt = None
    if args.schema:
        schema = _read(args.schema, "JSON schema")
        fmt = LocalResponseFormat(LocalFormatType.JSON_SCHEMA, schema)
    elif args.json_mode:
        fmt = LocalResponseFormat(LocalFormatType.JSON)
    request = LocalGenerationRequest(
        system_prompt=args.system,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        top_k=args.top_k,
        repetition_penalty=args.repeat_penalty,
        frequency_penalty=args.frequency_penalty,
        presence_penalty=args.presence_penalty,
        stop_sequences=tuple(args.stop) if args.stop else None,
        seed=args.seed,
        min_p=args.min_p,
        typical_p=args.typical_p,
        mirostat=args.mirostat,
        mirostat_tau=args.mirostat_tau,
        mirostat_eta=args.mirostat_eta,
        format=fmt,
        grammar=_read(args.grammar, "grammar") if args.grammar else None,
        **fields,
    )
    request.validate()  # before the model loads: a typo should not cost a load
    return request


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"cannot read the {what} file {path}: {exc}") from None


def load_options(args: argparse.Namespace, *, embedding: bool = True) -> ModelLoadOptions:
    return ModelLoadOptions(
        context_length=args.ctx,
        gpu_layers=args.gpu_layers,
        threads=args.threads,
        batch_size=args.batch,
        use_mmap=args.mmap,
        use_mlock=args.mlock or None,
        main_gpu=args.main_gpu,
        rope_freq_base=args.rope_freq_base,
        rope_freq_scale=args.rope_freq_scale,
        flash_attention=args.flash_attn,
        kv_cache_type=args.kv_cache_type,
        engine=args.engine,
        embedding=embedding,
        parallel=args.parallel,
    )


async def cmd_run(args: argparse.Namespace) -> int:
    # Checked with the prompt (or a stand-in for the chat's first line) before anything loads.
    request = generation_request(
        args, messages=(LocalChatMessage(ChatRole.USER, args.prompt or ""),)
    )
    # The split is planned (and printed) before anything starts: a wrong worker costs no load.
    try:
        options = await rpc_load_options(args, load_options(args), args.model)
    except RpcSplitError as exc:  # a worker that is down or public, a size or model typo
        print(f"lexitui: {exc}", file=sys.stderr)
        return 1
    services = Services.build()
    await services.start()
    try:
        saver = ChatSaver(services, args.model, request.system_prompt or "")
        try:
            history = [] if args.continue_id is None else await saver.reopen(args.continue_id)
        except ConversationNotFound as exc:
            print(f"lexitui: {exc}", file=sys.stderr)
            return 1
        loaded = await services.runtime.load(args.model, options, backend=args.backend)
        _warn_unused_gpu(services)
        # Built now, so it hears of the engine going away and can say so when it routes.
        await services.routing.start()
        if args.prompt is None:
            await _interactive(services, request, saver, history)
        else:
            question = LocalChatMessage(ChatRole.USER, args.prompt)
            asked = replace(request, messages=(*history, question))
            answered = await answer(services, asked, quiet=args.json)
            report(answered, args.json, engine=loaded.backend)
            if saver.conversation is not None:  # a one-off prompt is saved only to a chat
                await saver.exchange(question, answered.response)
    finally:
        await services.stop()
    return 0


def _warn_unused_gpu(services: Services) -> None:
    """One line on stderr when the engine that loaded the model cannot use this machine's GPU."""
    from lexitui.hardware.unused_gpu import unused_gpu_note

    hardware = services.hardware.last  # detected by the load's fit check
    note = unused_gpu_note(hardware.gpus) if hardware is not None else None
    if note:
        print(f"lexitui: {note}", file=sys.stderr, flush=True)


async def _interactive(
    services: Services,
    template: LocalGenerationRequest,
    saver: ChatSaver,
    history: list[LocalChatMessage],
) -> None:
    import asyncio

    engine = services.runtime.engine()
    print(f"Chatting with {engine.model.id}. /bye or Ctrl+D ends.", flush=True)
    if saver.conversation is not None:
        title = saver.conversation.title or "untitled"
        print(f"Carrying on “{title}” ({len(history)} messages).", flush=True)
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, ">>> ")
            except EOFError:
                print()
                return
            if line.strip() in ("/bye", "/exit"):
                return
            if not line.strip():
                continue
            # With the model gone meanwhile (its engine died, it was unloaded), the router
            # decides: a cloud provider answers, or the error says why nothing could.
            question = LocalChatMessage(ChatRole.USER, line)
            request = replace(template, messages=(*history, question))
            task = asyncio.ensure_future(answer(services, request, quiet=False))
            try:
                answered = await task
            except (KeyboardInterrupt, asyncio.CancelledError):
                task.cancel()
                print("\n[stopped]")
                continue
            reply = LocalChatMessage(ChatRole.ASSISTANT, answered.response.text)
            history += [question, reply]
            await saver.exchange(question, answered.response)
            report(answered, False)
    finally:
        saver.farewell()


# --- ps / unload ----------------------------------------------------------------------------


async def cmd_ps(args: argparse.Namespace) -> int:
    import psutil

    rows = []
    for state in live_engines(Paths.from_env()):
        try:
            rss = psutil.Process(state.engine_pid).memory_info().rss
        except psutil.Error:
            continue
        rows.append({**state.public(), "ram_bytes": rss})
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("No engines running (an engine stays up while the lexitui that started it runs).")
    else:
        width = max(len(r["model_id"]) for r in rows)
        print(
            f"{'MODEL':<{width}}  {'RAM':>9}  {'ENGINE':<12}  {'ENGINE PID':>10}  "
            f"{'OWNER PID':>9}  {'OWNER':<13}  ENDPOINT"
        )
        for r in rows:
            owner = "backend start" if r["owner"] == "cli" else "lexitui"
            print(
                f"{r['model_id']:<{width}}  {format_bytes(r['ram_bytes']):>9}  {r['engine']:<12}  "
                f"{r['engine_pid']:>10}  {r['owner_pid']:>9}  {owner:<13}  {r['endpoint']}"
            )
    return 0


def not_loaded(model: str | None) -> str:
    """``X is not loaded``, or ``no model is loaded`` when none was named (``--all``)."""
    subject = "no model is loaded" if model is None else f"{model} is not loaded"
    return f"{subject} (see `lexitui ps`)"


async def cmd_unload(args: argparse.Namespace) -> int:
    if not args.all and not args.model:
        print("lexitui: name a model (see `lexitui ps`) or give --all", file=sys.stderr)
        return 1
    engines = [s for s in live_engines(Paths.from_env()) if args.all or s.model_id == args.model]
    if not engines:
        print(f"lexitui: {not_loaded(None if args.all else args.model)}", file=sys.stderr)
        return 1
    for state in engines:
        # The engine, never its owner: the owner sees the exit and reports the model unloaded.
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.engine_pid, signal.SIGTERM)
        print(f"unloaded {state.model_id} (engine pid {state.engine_pid})")
    return 0


# --- embed / bench --------------------------------------------------------------------------


async def cmd_embed(args: argparse.Namespace) -> int:
    services = Services.build()
    await services.start()
    try:
        await services.runtime.load(args.model, load_options(args), backend=args.backend)
        request = LocalEmbeddingRequest(tuple(args.texts), normalize=not args.raw)
        result = await services.runtime.embed(request)
    finally:
        await services.stop()
    if args.json:
        print(json.dumps({"dimensions": result.dimensions, "embeddings": result.embeddings}))
    else:
        for text, vector in zip(args.texts, result.embeddings, strict=True):
            head = ", ".join(f"{x:.4f}" for x in vector[:4])
            print(f"{len(vector)} dims  [{head}, …]  {text[:60]}")
    return 0


async def cmd_bench(args: argparse.Namespace) -> int:
    services = Services.build()
    await services.start()
    try:
        services.profiler.check_bench()  # before a load that would be wasted
        loaded = await services.runtime.load(args.model, load_options(args), backend=args.backend)
        if args.tokens is None:
            report = await services.profiler.bench(loaded.id)
        else:
            report = await services.profiler.bench(loaded.id, max_tokens=args.tokens)
    finally:
        await services.stop()
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(report.as_text())
    return 0
