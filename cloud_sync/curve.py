"""CURVE key files for the ZeroMQ link (`zmq.auth` format: `<name>.key` public, `<name>.key_secret` secret).

Layout of a cloud-side key directory (``edge-cloud listen --curve-dir DIR``)::

    DIR/server.key, DIR/server.key_secret    the ROUTER's key pair
    DIR/clients/<device>.key                 public keys of the devices allowed to connect
"""

from __future__ import annotations

import shutil
from pathlib import Path

import zmq.asyncio
import zmq.auth
from zmq.auth.asyncio import AsyncioAuthenticator

from cloud_sync._tls import LinkError


def make_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    """Write `<name>.key` and `<name>.key_secret` into `directory`; returns (public, secret) paths."""
    directory.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(str(directory), name)
    return Path(public), Path(secret)


def make_server_dir(directory: Path) -> Path:
    """Create the cloud-side layout with a fresh server key pair; returns the public key path."""
    (directory / "clients").mkdir(parents=True, exist_ok=True)
    public, _ = make_keypair(directory, "server")
    return public


def allow_client(directory: Path, client_public: Path) -> Path:
    """Authorise a device by copying its public key into `directory/clients/`."""
    target = directory / "clients" / client_public.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(client_public, target)
    return target


def load_public(path: Path) -> bytes:
    try:
        public, _ = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise LinkError(f"curve key {path}: cannot load: {exc}") from None
    return bytes(public)


def load_pair(path: Path) -> tuple[bytes, bytes]:
    """(public, secret) from a `.key_secret` file."""
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise LinkError(f"curve key {path}: cannot load: {exc}") from None
    if secret is None:
        raise LinkError(f"curve key {path}: no secret key in it (give the .key_secret file)")
    return bytes(public), bytes(secret)


def client_keys(client_key: Path, server_key: Path) -> tuple[bytes, bytes, bytes]:
    """(public, secret, server public) for a CURVE client; a bad file is a `LinkError` naming it."""
    public, secret = load_pair(client_key)
    return public, secret, load_public(server_key)


def secure_server(context: zmq.asyncio.Context, sock: zmq.asyncio.Socket, curve_dir: Path) -> AsyncioAuthenticator:
    """CURVE server keys on `sock` and a ZAP authenticator allowing only `curve_dir/clients/*.key`.

    Call before `sock` binds, so no peer connects unchecked; stop the returned authenticator with the socket.
    """
    clients = curve_dir / "clients"
    if not clients.is_dir():
        raise LinkError(f"--curve-dir {curve_dir}: no clients/ directory of allowed device keys")
    auth = AsyncioAuthenticator(context)
    auth.start()
    auth.configure_curve(domain="*", location=str(clients))
    try:
        server_keys(sock, curve_dir)
    except LinkError:
        auth.stop()
        raise
    return auth


def server_keys(sock: zmq.asyncio.Socket, curve_dir: Path) -> None:
    """CURVE server keys on one more socket of a context whose authenticator `secure_server` started: that
    authenticator checks this socket's peers too (one ZAP handler per context)."""
    public, secret = load_pair(curve_dir / "server.key_secret")
    sock.curve_publickey, sock.curve_secretkey, sock.curve_server = public, secret, True
