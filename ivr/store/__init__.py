"""Call store: SQLAlchemy models, Alembic migrations, ``CallStore`` and the ``CallRecorder``."""

from ivr.store.calls import CallStore, OpenCall, StoreClosedError, default_db_url
from ivr.store.write_behind import CallRecorder, Write, is_transient

__all__ = [
    "CallRecorder",
    "CallStore",
    "OpenCall",
    "StoreClosedError",
    "Write",
    "default_db_url",
    "is_transient",
]
