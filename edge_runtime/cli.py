"""`edge-runtime`: run a config, validate it, print the schema, inspect and fetch models, benchmark.

Exit status: 0 done, 2 a problem in the user's config or model (one line each on stderr), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge_runtime.config import ConfigError, RuntimeConfig, load_config
from edge_runtime.engine._terminal import LiveTerminal, TerminalLogHandler
from edge_runtime.logs import LogFormat, formatter
from edge_runtime.logs import configure as configure_logs
from edge_runtime.service import pid_file

USER_ERROR = 2

COMMANDS = ("run", "validate", "schema", "models", "bench", "plan", "service", "reload")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not args:
        parser.print_help()
        return 0
    if args[0] not in (*COMMANDS, "-h", "--help", "--version"):
        args.insert(0, "run")
    ns = parser.parse_args(args)
    configure_logs(getattr(ns, "log_format", "text"), getattr(ns, "verbose", False))
    handler: Callable[[argparse.Namespace], int] = ns.handler
    try:
        return handler(ns)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:
        _quiet_closed_pipe()
        return 0


def _quiet_closed_pipe() -> None:
    """`edge-runtime schema | head`: the reader left; end quietly (no traceback, no error at exit's flush)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge-runtime", description="Real-time AI stream processing on this device.")
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a config (the default: `edge-runtime --config FILE`)")
    run.add_argument("--config", "-c", required=True, type=Path, help="the device config (YAML)")
    run.add_argument("--duration", type=float, help="stop cleanly after this many seconds")
    run.add_argument("--display", choices=["auto", "tty", "log", "off"], help="override status.display")
    run.add_argument("--verbose", "-v", action="store_true")
    run.add_argument("--log-format", choices=["text", "json"], default="text", help="json: one object per line")
    run.add_argument("--pid-file", type=Path, help="write the process id here (for `edge-runtime reload`)")
    run.set_defaults(handler=_run)
    validate = sub.add_parser("validate", help="check a config; one line per problem, exit 0 or 2")
    validate.add_argument("file", type=Path)
    validate.set_defaults(handler=_validate)
    schema = sub.add_parser("schema", help="print the config's JSON Schema (for editor completion)")
    schema.set_defaults(handler=_schema)
    from edge_runtime.cli_models import add_models_commands

    add_models_commands(sub)
    from edge_runtime.bench.cli import add_bench_command

    add_bench_command(sub)
    from edge_runtime.plan.cli import add_plan_command

    add_plan_command(sub)
    from edge_runtime.service import add_reload_command, add_service_command

    add_service_command(sub)
    add_reload_command(sub)
    return parser


class _Version(argparse.Action):
    """`--version`: read from the package metadata only when asked (0.5 MiB in every runtime otherwise)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        from importlib.metadata import version

        print(f"edge-runtime {version('edge-runtime')}")
        parser.exit()


def _validate(ns: argparse.Namespace) -> int:
    config = load_config(ns.file)
    print(f"{ns.file}: ok ({len(config.streams)} streams, {len(config.models)} models)")
    return 0


def _schema(ns: argparse.Namespace) -> int:
    del ns
    print(json.dumps(RuntimeConfig.model_json_schema(), indent=2))
    return 0


def _run(ns: argparse.Namespace) -> int:
    from edge_runtime._malloc import limit_arenas
    from edge_runtime.engine import build_runtime
    from edge_runtime.inference import ModelError
    from edge_runtime.sources import SourceError

    config = load_config(ns.config)
    limit_arenas()  # before the runtime's threads start
    try:
        runtime, _ = build_runtime(config, ns.config.parent, display=ns.display, config_path=ns.config)
    except (ModelError, SourceError, OSError) as exc:
        print(f"{ns.config}: {exc}", file=sys.stderr)
        return USER_ERROR
    if runtime.status is not None and runtime.status.terminal is not None:
        _log_above(runtime.status.terminal, ns.log_format)
    with pid_file(ns.pid_file):
        asyncio.run(runtime.run(ns.duration))
    return 1 if runtime.failed else 0


def _log_above(terminal: LiveTerminal, log_format: LogFormat) -> None:
    """On a terminal, log lines scroll above the live status block instead of tearing it."""
    root = logging.getLogger()
    handler = TerminalLogHandler(terminal)
    handler.setFormatter(formatter(log_format))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
