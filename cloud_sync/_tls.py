"""TLS contexts from config, and one-line descriptions of connection errors."""

from __future__ import annotations

import ssl

from cloud_sync.config import TlsConfig


class LinkError(Exception):
    """A cloud-link problem worth one line to the user (bad TLS files, refused certificate, bad credentials)."""


def ssl_context(tls: TlsConfig) -> ssl.SSLContext:
    """A client context that verifies the server against `tls.ca` and presents `tls.cert` when given."""
    try:
        ctx = ssl.create_default_context(cafile=str(tls.ca) if tls.ca else None)
    except (OSError, ssl.SSLError) as exc:
        raise LinkError(f"tls.ca {tls.ca}: cannot load CA: {exc}") from None
    if tls.cert is not None:
        try:
            ctx.load_cert_chain(str(tls.cert), str(tls.key) if tls.key else None)
        except (OSError, ssl.SSLError) as exc:
            raise LinkError(f"tls.cert {tls.cert} / tls.key {tls.key}: cannot load: {exc}") from None
    return ctx


_PERMANENT_MARKERS = (
    "CERTIFICATE_VERIFY_FAILED",
    "certificate verify failed",
    "WRONG_VERSION_NUMBER",
    "Not authorized",
    "Bad user name or password",
    "not authorised",
    "Identifier rejected",
)


def describe(exc: BaseException) -> str:
    """One line: the innermost useful message of a connection failure."""
    text = str(exc) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    return " ".join(text.split())


def is_permanent(exc: BaseException) -> bool:
    """Errors that a retry will not fix (TLS verification, refused credentials)."""
    if isinstance(exc, LinkError | ssl.SSLCertVerificationError):
        return True
    text = describe(exc)
    return any(marker in text for marker in _PERMANENT_MARKERS)
