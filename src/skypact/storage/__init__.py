"""SkyPact's database: engines, schema migrations and the repository.

SQLite (a file, WAL) is the embedded default and PostgreSQL the production store; both
are driven through SQLAlchemy Core by the same code. Typical use, in an entrypoint::

    engine = make_engine(settings.storage.url)
    migrate(engine)                       # ``skypact db migrate``
    repo = Repository(engine, signer, clock=time.time)

See :mod:`skypact.storage.engine` (engines, migrations), :mod:`skypact.storage.schema`
(the tables) and :mod:`skypact.storage.repository` (reads and audited writes).
"""

from skypact.storage.engine import (
    check_at_head,
    current_revision,
    default_url,
    head_revision,
    make_engine,
    migrate,
)
from skypact.storage.repository import (
    REPORT_COLUMNS,
    REPORT_INPUT_COLUMNS,
    SERVER_ACTOR,
    TRACK_HISTORY_COLUMNS,
    AlertEventRow,
    AlertRow,
    AuditHead,
    BatchReceipt,
    ChannelEventRow,
    ChannelRow,
    IssuedToken,
    MessageEventRow,
    MessageRow,
    Repository,
    StoredAgreement,
    TokenInfo,
    TrackPoint,
)

__all__ = [
    "REPORT_COLUMNS",
    "REPORT_INPUT_COLUMNS",
    "SERVER_ACTOR",
    "TRACK_HISTORY_COLUMNS",
    "AlertEventRow",
    "AlertRow",
    "AuditHead",
    "BatchReceipt",
    "ChannelEventRow",
    "ChannelRow",
    "IssuedToken",
    "MessageEventRow",
    "MessageRow",
    "Repository",
    "StoredAgreement",
    "TokenInfo",
    "TrackPoint",
    "check_at_head",
    "current_revision",
    "default_url",
    "head_revision",
    "make_engine",
    "migrate",
]
