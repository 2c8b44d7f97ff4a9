"""Call store: SQLAlchemy models, Alembic migrations, ``CallStore`` and the ``CallRecorder``."""

from ivr.store.calls import CALLBACK_STATUSES, CallStore, OpenCall, StoreClosedError, default_db_url
from ivr.store.users import UserExistsError, UserRecord, WebSessionRecord, session_token_hash
from ivr.store.write_behind import CallRecorder, Write, is_transient

__all__ = [
    "CALLBACK_STATUSES",
    "CallRecorder",
    "CallStore",
    "OpenCall",
    "StoreClosedError",
    "UserExistsError",
    "UserRecord",
    "WebSessionRecord",
    "Write",
    "default_db_url",
    "is_transient",
    "session_token_hash",
]
