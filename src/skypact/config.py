"""Settings of the live service, from the environment (``SKYPACT_*``) and the CLI.

Entrypoints build one :class:`Settings` and pass it down; nothing else reads the
environment. Secrets live in the data directory, created on first use with mode 0600:

- ``audit-key.pem``: the server's Ed25519 key that signs every audit record;
- ``release-secret``: the key of the per-viewer track handles (need to know).

Keep the data directory private to the service; an auditor needs only the audit key's
public half, which ``skypact audit verify`` and ``GET /api/v1/audit/verify`` print.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from skypact.audit.model import AuditSigner
from skypact.errors import ConfigError

__all__ = ["Settings", "StorageSettings", "load_audit_signer", "load_release_secret"]


class StorageSettings(BaseModel):
    """``SKYPACT_STORAGE__URL``: the database (SQLite file by default)."""

    url: str | None = None


class Settings(BaseSettings):
    """The service's settings (environment prefix ``SKYPACT_``; nested with ``__``).

    Attributes:
        data_dir: where the SQLite database and the service's keys live.
        storage: the database URL (default ``sqlite:///<data_dir>/skypact.db``).
        agreement: the agreement file in force (its signatures beside it, in
            ``<file>.sig.json``).
        cycle_s: the longest time between detection cycles (detection, alerting, the
            line's automatic notices and deadlines); a batch of reports starts one at
            once.
        min_cycle_s: the shortest time between detection cycles.
        picture_s: seconds between picture updates to live clients (and track history
            and release records): at least one detection cycle.
        host, port: where the HTTP API listens.
        cot_port: where Cursor on Target is served (None: not served).
        tls_cert, tls_key, client_ca: TLS for HTTP and CoT; with ``client_ca`` clients
            must present a certificate it signed.
        log_json: log as JSON lines instead of text.
    """

    model_config = SettingsConfigDict(
        env_prefix="SKYPACT_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("skypact-data")
    storage: StorageSettings = StorageSettings()
    agreement: Path | None = None
    cycle_s: float = Field(default=1.0, gt=0.0)
    picture_s: float = Field(default=1.0, gt=0.0)
    min_cycle_s: float = Field(default=0.1, ge=0.0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    cot_port: int | None = Field(default=None, ge=0, le=65535)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    client_ca: Path | None = None
    log_json: bool = False

    def database_url(self) -> str:
        """The configured database URL, or the SQLite file in the data directory."""
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{(self.data_dir / 'skypact.db').resolve()}"


def _private_file(path: Path, make: bytes) -> bytes:
    """The file's bytes; written with ``make`` (mode 0600) if it does not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError("data_dir", str(path), exc.strerror or str(exc)) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # written meanwhile by another process
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(make)
    return make


def load_audit_signer(data_dir: Path) -> AuditSigner:
    """The server's audit key from ``data_dir/audit-key.pem`` (made on first use)."""
    pem = _private_file(data_dir / "audit-key.pem", AuditSigner.generate().to_pem())
    return AuditSigner.from_pem(pem)


def load_release_secret(data_dir: Path) -> bytes:
    """The track-handle secret from ``data_dir/release-secret`` (made on first use)."""
    return _private_file(data_dir / "release-secret", secrets.token_bytes(32))
