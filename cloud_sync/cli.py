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

from cloud_sync._tls import LinkError
from cloud_sync.models import KeyFileError, ManifestError

SUBCOMMANDS: tuple[str, ...] = ("cloud_sync.listen", "cloud_sync.models.cli")


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
    except (KeyFileError, ManifestError, OSError, ValueError) as exc:  # a user's key, model file or argument
        print(f"edge-cloud {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status
