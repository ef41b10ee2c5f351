"""Parsing command-line values of `edge-cloud` into what the links take, with one-line errors."""

from __future__ import annotations


def host_port(text: str, option: str = "--mqtt", default_host: str | None = None) -> tuple[str, int]:
    """``HOST:PORT`` (the last colon splits, so ``[::1]:1883`` works) into a host and a port in 1..65535.

    With `default_host`, ``:PORT`` means that host. Raises ValueError naming `option` and what it got.
    """
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or (default_host or "")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{option} wants HOST:PORT with a port in 1..65535 (got {text!r})")
    return host, int(port)
