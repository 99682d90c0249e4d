"""The ``lexitui`` command: the TUI with no arguments, headless subcommands otherwise.

Every area adds its subcommands here (``COMMAND_MODULES``), each with ``--json`` for scripts.
Subcommands never import Textual, and each imports only its own area, so they start fast over SSH
and work without a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# The module that adds each subcommand, in the order ``--help`` lists them. A command imports only
# its own module, so ``--version`` and ``ls`` never load the Hub client, the price tables, numpy
# or Textual (tests/test_cli_imports.py checks this table against the modules).
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "lexitui.commands.runtime": ("run", "chats", "ps", "unload", "embed", "bench"),
    "lexitui.commands.ls": ("ls",),
    "lexitui.commands.hardware": ("hw",),
    "lexitui.commands.engine": ("engine",),
    "lexitui.commands.rpc": ("rpc",),
    "lexitui.commands.vllm": ("vllm",),
    "lexitui.commands.remote": ("remote",),
    "lexitui.commands.backends": ("backends", "backend"),
    "lexitui.commands.gguf": ("gguf",),
    "lexitui.commands.discovery": ("search", "show"),
    "lexitui.commands.fit": ("fit",),
    "lexitui.commands.pull": ("pull",),
    "lexitui.commands.storage": (
        "rm",
        "import",
        "export",
        "verify",
        "storage",
        "cleanup",
        "library",
    ),
    "lexitui.commands.routing": ("route", "providers", "savings"),
    "lexitui.commands.reports": ("recommend", "usage"),
    "lexitui.commands.serve": ("serve",),
    "lexitui.commands.hosts": ("host", "hosts"),
    "lexitui.commands.license": ("license",),
}

# Errors a user can cause or fix; they print one line instead of a traceback. Named by module so
# that naming them imports nothing: an error's class is loaded by the time one is raised.
USER_ERRORS = (
    ("lexitui.config", "ConfigError"),
    ("lexitui.store.database", "StoreError"),
    ("lexitui.engine.errors", "EngineError"),
    ("lexitui.engine.rpc_address", "RpcAddressError"),
    ("lexitui.engine.rpc_probe", "RpcProbeError"),
    ("lexitui.engine.ssh_runner", "SshError"),
    ("lexitui.runtime.errors", "RuntimeErrorBase"),
    ("lexitui.domain.inference", "InvalidRequest"),
    ("lexitui.store.installed_models", "ModelNotFound"),
    ("lexitui.domain.models", "InvalidModelId"),
    ("lexitui.hardware.settings", "HardwareSettingsError"),
    ("lexitui.gguf.errors", "GgufError"),
    ("lexitui.discovery.errors", "RegistryError"),
    ("lexitui.storage.errors", "StorageError"),
    ("lexitui.routing.errors", "RoutingError"),
    ("lexitui.routing.errors", "ProviderError"),
    ("lexitui.editions.license_file", "LicenseError"),
    ("lexitui.editions.refusals", "EditionRefusal"),
)


def user_errors() -> tuple[type[BaseException], ...]:
    """The user-error classes among the modules loaded so far (the others cannot be raised)."""
    found: list[type[BaseException]] = []
    for module_name, name in USER_ERRORS:
        module = sys.modules.get(module_name)
        if module is not None:
            found.append(getattr(module, name))
    return tuple(found)


def package_version() -> str:
    """From the package's metadata, without importing anything of lexitui's own."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lexitui")
    except PackageNotFoundError:
        return "0+unknown"


class _VersionAction(argparse.Action):
    """``--version``, with the metadata read only when it is asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"lexitui {package_version()}")
        parser.exit()


def modules_for(argv: Sequence[str]) -> list[str]:
    """The subcommand modules a command line needs: its command's own, none for the TUI or
    ``--version``, every one for ``--help`` or an unknown command (to list them)."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if command is None:
        return list(COMMAND_MODULES) if {"-h", "--help"} & set(argv) else []
    owners = [module for module, names in COMMAND_MODULES.items() if command in names]
    return owners or list(COMMAND_MODULES)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv`` (``None``: every subcommand)."""
    parser = argparse.ArgumentParser(
        prog="lexitui", description="Run LLMs on your own hardware, from the terminal."
    )
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in list(COMMAND_MODULES) if argv is None else modules_for(argv):
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a reader that goes away (``| head``) ends it quietly."""
    try:
        try:
            return run_command(argv)
        finally:
            # Flush here, inside the handler: a failed flush at interpreter exit would print
            # "Exception ignored ... BrokenPipeError" after we had already returned.
            sys.stdout.flush()
    except BrokenPipeError:
        stop_writing_to_stdout()
        return 1


def stop_writing_to_stdout() -> None:
    """Point stdout at the null device so the final flush at exit has nowhere to fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def run_command(argv: Sequence[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
    try:
        if args.command is None:
            from lexitui.ui.app import run_app

            return run_app()
        import asyncio  # ~30 ms that ``--version`` and ``--help`` do without

        return int(asyncio.run(args.func(args)))
    except user_errors() as exc:  # evaluated only when an exception propagates
        print(f"lexitui: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
