"""Opening the live service's parts from settings: database, keys, agreement, service.

:func:`open_runtime` is what ``skypact serve`` (and the tests of the API) call once:
it connects to a migrated database, loads the server's keys, loads the agreement and
refuses it unless it is in force (signed by every party), records the agreement version
in storage and the audit chain, builds the :class:`~skypact.service.Service` and
recovers its state from storage.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skypact.agreement.document import LoadedAgreement, parse_agreement
from skypact.agreement.signing import read_signature_file, verify_signatures
from skypact.audit.model import AuditSigner
from skypact.config import Settings, load_audit_signer, load_release_secret
from skypact.errors import AgreementError, ConfigError
from skypact.parties.releasability import NeedToKnow
from skypact.service import Service, ServiceConfig
from skypact.storage.engine import make_engine
from skypact.storage.repository import Repository

__all__ = ["Runtime", "load_agreement_in_force", "open_repository", "open_runtime"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Runtime:
    """The opened parts of a running service."""

    settings: Settings
    signer: AuditSigner
    repository: Repository
    service: Service

    def close(self) -> None:
        """Close the database connections."""
        self.repository.engine.dispose()


def signature_path(agreement: Path) -> Path:
    """Where an agreement's signatures are kept: ``<file>.sig.json`` beside it."""
    return agreement.with_name(agreement.name + ".sig.json")


def load_agreement_in_force(path: Path) -> tuple[LoadedAgreement, str]:
    """The agreement and its signature file's text, if every party has signed it.

    Raises:
        ConfigError: the file cannot be read.
        AgreementError: it is invalid, or not in force (naming who has not signed).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError("--agreement", str(path), exc.strerror or str(exc)) from exc
    agreement = parse_agreement(raw, source=str(path))
    sig = signature_path(path)
    try:
        signatures_text = sig.read_text()
    except OSError:
        signatures_text = ""
    check = verify_signatures(
        agreement, read_signature_file(signatures_text) if signatures_text else None
    )
    if not check.in_force:
        waiting = [s.party for s in check.parties if s.state.value != "valid"]
        raise AgreementError(
            f"{path}: not in force: no valid signature of {', '.join(waiting)} in {sig}"
        )
    return agreement, signatures_text


def open_repository(
    settings: Settings, *, clock: Callable[[], float] = time.time
) -> Repository:
    """The repository over the configured (already migrated) database."""
    signer = load_audit_signer(settings.data_dir)
    return Repository(make_engine(settings.database_url()), signer, clock)


def open_runtime(
    settings: Settings, *, clock: Callable[[], float] = time.time
) -> Runtime:
    """Open everything ``serve`` needs (see the module docstring).

    Raises:
        ConfigError: no agreement is configured, or a file cannot be read.
        AgreementError: the agreement is not in force.
        MigrationError: the database is not migrated to the current schema.
    """
    if settings.agreement is None:
        raise ConfigError(
            "--agreement", None, "the service needs the agreement in force"
        )
    agreement, signatures = load_agreement_in_force(settings.agreement)
    signer = load_audit_signer(settings.data_dir)
    repository = Repository(make_engine(settings.database_url()), signer, clock)
    header = agreement.content.agreement
    repository.store_agreement(
        header.id,
        header.version,
        hashlib.sha256(agreement.raw).hexdigest(),
        agreement.raw,
        json.dumps(json.loads(signatures)) if signatures else "{}",
    )
    need = NeedToKnow.from_agreement(
        agreement.content, secret=load_release_secret(settings.data_dir)
    )
    service = Service(
        agreement=agreement,
        repository=repository,
        need=need,
        clock=clock,
        config=ServiceConfig(cycle_s=settings.cycle_s, picture_s=settings.picture_s),
    )
    service.recover()
    return Runtime(
        settings=settings, signer=signer, repository=repository, service=service
    )
