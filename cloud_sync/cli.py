"""`edge-cloud`: the cloud-side tool. A small dispatcher: each subcommand lives in its own module.

A subcommand module defines ``register(subparsers)``, which adds its parser and sets ``func`` (taking the parsed
arguments, returning an exit status). Add a module to SUBCOMMANDS to add a subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

import pydantic
import zmq

from cloud_sync._tls import LinkError
from cloud_sync.models import KeyFileError, ManifestError

SUBCOMMANDS: tuple[str, ...] = (
    "cloud_sync.listen", "cloud_sync.models.cli", "cloud_sync.ingest.cli", "cloud_sync.fleet.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge-cloud", description="The cloud side of edge-runtime.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log connection events")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help(sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        status: int = args.func(args)
    except LinkError as exc:
        print(f"edge-cloud {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except zmq.ZMQError as exc:  # an endpoint that cannot be bound (bad scheme, port in use) or connected
        print(f"edge-cloud {args.command}: cannot bind/connect {_endpoint(args)}: {exc}", file=sys.stderr)
        return 1
    except pydantic.ValidationError as exc:  # an argument outside what the message allows (e.g. --chunk-size)
        for line in _validation_lines(exc):
            print(f"edge-cloud {args.command}: {line}", file=sys.stderr)
        return 2
    except (KeyFileError, ManifestError, OSError, ValueError) as exc:  # a user's key, model file or argument
        print(f"edge-cloud {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status


def _endpoint(args: argparse.Namespace) -> str:
    return str(getattr(args, "zmq_bind", None) or getattr(args, "zmq", None) or "the ZeroMQ endpoint")


def _validation_lines(exc: pydantic.ValidationError) -> list[str]:
    """One line per error: ``field: message``."""
    return [f"{'.'.join(map(str, e['loc'])) or exc.title}: {e['msg']}" for e in exc.errors()]
