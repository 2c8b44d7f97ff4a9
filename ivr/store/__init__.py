"""Call store: SQLAlchemy models, Alembic migrations, ``CallStore`` and the ``CallRecorder``."""

from ivr.store.calls import CALLBACK_STATUSES, CallStore, OpenCall, StoreClosedError, default_db_url
from ivr.store.write_behind import CallRecorder, Write, is_transient

__all__ = [
    "CALLBACK_STATUSES",
    "CallRecorder",
    "CallStore",
    "OpenCall",
    "StoreClosedError",
    "Write",
    "default_db_url",
    "is_transient",
]
