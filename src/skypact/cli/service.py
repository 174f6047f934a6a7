"""The service's commands: ``serve``, ``token create``, ``audit verify``, ``db migrate``.

Each reads :class:`skypact.config.Settings` (environment ``SKYPACT_*``), overridden by
its options (``--data-dir``, ``--database``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any

from skypact.errors import ConfigError

__all__ = ["add_parser", "run"]

_ROLES = ("duty-officer", "commander", "analyst", "auditor")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the SQLite database and the service's keys live "
        "(default: $SKYPACT_DATA_DIR or ./skypact-data)",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="sqlite:///FILE or postgresql://... (default: SQLite in the data dir)",
    )


def add_parser(subparsers: Any) -> None:
    """Register ``serve``, ``token``, ``audit`` and ``db``."""
    serve = subparsers.add_parser(
        "serve",
        help="run the multi-party service (HTTP API, live feed, CoT output)",
        description="Run the service for the agreement in force: reports in, "
        "detection and alerting every cycle, per-party delivery on a need-to-know "
        "basis. The database must be migrated (skypact db migrate).",
    )
    _common(serve)
    serve.add_argument("--agreement", type=Path, required=True, metavar="FILE")
    serve.add_argument("--host", default=None, help="default 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default 8000")
    serve.add_argument(
        "--cycle-s",
        type=float,
        default=None,
        help="most seconds between detection and alerting cycles (default 1.0)",
    )
    serve.add_argument(
        "--min-cycle-s",
        type=float,
        default=None,
        help="least seconds between cycles; a batch of reports starts one at once "
        "(default 0.1)",
    )
    serve.add_argument(
        "--picture-s",
        type=float,
        default=None,
        help="seconds between picture updates to live clients (default 1.0; at "
        "least one cycle)",
    )
    serve.add_argument(
        "--cot-port",
        type=int,
        default=None,
        metavar="PORT",
        help="also stream Cursor on Target to TAK clients on this port (TLS with "
        "--tls-cert; with --client-ca the client certificate's O names the party, "
        "otherwise clients send 'SKYPACT-TOKEN <token>' first)",
    )
    serve.add_argument("--tls-cert", type=Path, metavar="FILE")
    serve.add_argument("--tls-key", type=Path, metavar="FILE")
    serve.add_argument(
        "--client-ca", type=Path, metavar="FILE", help="require client certificates"
    )
    serve.set_defaults(run=_serve)

    token = subparsers.add_parser("token", help="manage API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser(
        "create",
        help="create a token and print it once (only its hash is stored)",
    )
    _common(create)
    create.add_argument("--party", required=True)
    create.add_argument("--role", choices=_ROLES, default="duty-officer")
    create.add_argument("--label", default="")
    create.add_argument(
        "--expires-in-h", type=float, default=None, help="hours until it expires"
    )
    create.add_argument(
        "--agreement",
        type=Path,
        metavar="FILE",
        help="check that the party is one of this agreement's",
    )
    create.set_defaults(run=_token_create)

    audit = subparsers.add_parser("audit", help="the tamper-evident record")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="re-check every audit record; name the first changed, deleted, "
        "inserted or reordered one (exit 1 if the chain is broken)",
    )
    _common(verify)
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(run=_audit_verify)

    db = subparsers.add_parser("db", help="the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    migrate = db_sub.add_parser("migrate", help="create or upgrade the schema")
    _common(migrate)
    migrate.set_defaults(run=_db_migrate)


def run(args: argparse.Namespace) -> int:  # pragma: no cover - dispatch is per command
    code: int = args.run(args)
    return code


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from skypact.config import Settings, StorageSettings

    values: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if args.data_dir is not None:
        values["data_dir"] = args.data_dir
    if args.database is not None:
        values["storage"] = StorageSettings(url=args.database)
    return Settings(**values)


def _db_migrate(args: argparse.Namespace) -> int:
    from skypact.storage.engine import make_engine, migrate

    settings = _settings(args)
    engine = make_engine(settings.database_url())
    try:
        revision = migrate(engine)
    finally:
        engine.dispose()
    print(f"database at revision {revision}: {_shown_url(settings.database_url())}")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from skypact.runtime import load_agreement_in_force, open_repository

    if args.agreement is not None:
        agreement, _ = load_agreement_in_force(args.agreement)
        known = {p.id for p in agreement.content.parties}
        if args.party not in known:
            raise ConfigError(
                "--party",
                args.party,
                f"not a party of {args.agreement} ({', '.join(sorted(known))})",
            )
    settings = _settings(args)
    repository = open_repository(settings)
    now = dt.datetime.now(dt.UTC).timestamp()
    expires = None
    if args.expires_in_h is not None:
        if not args.expires_in_h > 0:
            raise ConfigError("--expires-in-h", args.expires_in_h, "must be > 0")
        expires = now + args.expires_in_h * 3600.0
    try:
        issued = repository.create_token(
            args.party, args.role, label=args.label, expires_at_s=expires
        )
    finally:
        repository.engine.dispose()
    print(issued.token)
    print(
        f"token {issued.token_id} for {args.party} ({args.role}) created; it is shown only "
        "once: keep it secret",
        file=sys.stderr,
    )
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from skypact.config import load_audit_signer
    from skypact.runtime import open_repository

    settings = _settings(args)
    repository = open_repository(settings)
    try:
        report = repository.verify_audit()
    finally:
        repository.engine.dispose()
    public_key = load_audit_signer(settings.data_dir).public_key
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "records": report.records,
                    "seq": report.seq,
                    "problem": report.problem,
                    "detail": report.detail,
                    "public_key": public_key,
                }
            )
        )
    elif report.ok:
        print(f"audit chain verifies: {report.detail} (server key {public_key})")
    else:
        print(
            f"audit chain BROKEN at record {report.seq}: {report.problem}: "
            f"{report.detail}"
        )
    return 0 if report.ok else 1


def _serve(args: argparse.Namespace) -> int:  # pragma: no cover - runs until stopped
    import uvicorn

    from skypact.api.app import create_app
    from skypact.runtime import open_runtime

    if (args.tls_cert is None) != (args.tls_key is None):
        raise ConfigError("--tls-cert/--tls-key", None, "give both or neither")
    if args.client_ca is not None and args.tls_cert is None:
        raise ConfigError("--client-ca", str(args.client_ca), "needs --tls-cert")
    settings = _settings(
        args,
        agreement=args.agreement,
        host=args.host,
        port=args.port,
        cycle_s=args.cycle_s,
        picture_s=args.picture_s,
        min_cycle_s=args.min_cycle_s,
        cot_port=args.cot_port,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        client_ca=args.client_ca,
    )
    opened = open_runtime(settings)
    app = create_app(opened)
    options: dict[str, Any] = {}
    if settings.tls_cert is not None:
        import ssl

        options = {
            "ssl_certfile": str(settings.tls_cert),
            "ssl_keyfile": str(settings.tls_key),
        }
        if settings.client_ca is not None:
            options["ssl_ca_certs"] = str(settings.client_ca)
            options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
    logging.getLogger(__name__).info(
        "serving %s on %s:%d", settings.agreement, settings.host, settings.port
    )
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level="info", **options
    )
    return 0


def _shown_url(url: str) -> str:
    """A database URL without its password."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"
