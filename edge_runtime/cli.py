"""`edge-runtime`: run a config, validate it, print the schema, inspect and fetch models, benchmark.

Exit status: 0 done, 2 a problem in the user's config or model (one line each on stderr), 1 anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from edge_runtime.config import ConfigError, RuntimeConfig, load_config
from edge_runtime.engine._terminal import LiveTerminal, TerminalLogHandler

USER_ERROR = 2

COMMANDS = ("run", "validate", "schema", "models", "bench", "plan")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in (*COMMANDS, "-h", "--help"):
        args.insert(0, "run")
    parser = _parser()
    ns = parser.parse_args(args)
    logging.basicConfig(
        level=logging.DEBUG if getattr(ns, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Callable[[argparse.Namespace], int] = ns.handler
    try:
        return handler(ns)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge-runtime", description="Real-time AI stream processing on this device.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a config (the default: `edge-runtime --config FILE`)")
    run.add_argument("--config", "-c", required=True, type=Path, help="the device config (YAML)")
    run.add_argument("--duration", type=float, help="stop cleanly after this many seconds")
    run.add_argument("--display", choices=["auto", "tty", "log", "off"], help="override status.display")
    run.add_argument("--verbose", "-v", action="store_true")
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
    return parser


def _validate(ns: argparse.Namespace) -> int:
    config = load_config(ns.file)
    print(f"{ns.file}: ok ({len(config.streams)} streams, {len(config.models)} models)")
    return 0


def _schema(ns: argparse.Namespace) -> int:
    del ns
    print(json.dumps(RuntimeConfig.model_json_schema(), indent=2))
    return 0


def _run(ns: argparse.Namespace) -> int:
    from edge_runtime.engine import build_runtime
    from edge_runtime.inference import ModelError
    from edge_runtime.sources import SourceError

    config = load_config(ns.config)
    try:
        runtime, _ = build_runtime(config, ns.config.parent, display=ns.display)
    except (ModelError, SourceError, OSError) as exc:
        print(f"{ns.config}: {exc}", file=sys.stderr)
        return USER_ERROR
    if runtime.status is not None and runtime.status.terminal is not None:
        _log_above(runtime.status.terminal)
    asyncio.run(runtime.run(ns.duration))
    return 1 if runtime.failed else 0


def _log_above(terminal: LiveTerminal) -> None:
    """On a terminal, log lines scroll above the live status block instead of tearing it."""
    root = logging.getLogger()
    handler = TerminalLogHandler(terminal)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
