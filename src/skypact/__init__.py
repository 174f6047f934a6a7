"""SkyPact: flight-safety deconfliction for air forces sharing one battle space.

The public Python API (pandas in, pandas out)::

    import skypact
    conflicts = skypact.detect(snapshot, lookahead_s=300.0, horizontal_nm=5.0)

See DESIGN.md "Interfaces" for the contract; :mod:`skypact.errors` for the exceptions.
"""

from skypact.errors import (
    ConfigError,
    IngestError,
    InvalidStateError,
    MissingColumnError,
    ParseError,
    SkyPactError,
    UnsupportedFormatError,
)
from skypact.pipeline import CONFLICT_COLUMNS, detect
from skypact.tracks.ingest.table import read_table

__version__ = "0.1.0"

__all__ = [
    "CONFLICT_COLUMNS",
    "ConfigError",
    "IngestError",
    "InvalidStateError",
    "MissingColumnError",
    "ParseError",
    "SkyPactError",
    "UnsupportedFormatError",
    "__version__",
    "detect",
    "read_table",
]
