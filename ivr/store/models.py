"""Tables of the call store. Every timestamp is UTC (see ``timeutil.UtcDateTime``). Free text from
outside the program (numbers, causes, outcomes, node names) is a ``ClippedString``: cut to its column's
length on PostgreSQL rather than refused.

Child rows (path, inputs, offers, survey results) are ordered by their autoincrement ``id``:
the recorder applies writes strictly in order, so insertion order is event order.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ivr.store.clipped_string import ClippedString
from ivr.store.timeutil import UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str | None] = mapped_column(String(128), index=True)
    caller_number: Mapped[str | None] = mapped_column(ClippedString(128))
    caller_name: Mapped[str | None] = mapped_column(Text)
    dialed: Mapped[str | None] = mapped_column(ClippedString(128))
    flow: Mapped[str | None] = mapped_column(ClippedString(128))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    queue: Mapped[str | None] = mapped_column(ClippedString(128))
    queued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    agent: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(ClippedString(32))
    hangup_cause: Mapped[str | None] = mapped_column(ClippedString(128))


class PathRow(Base):
    __tablename__ = "call_path"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str] = mapped_column(ClippedString(128))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class InputRow(Base):
    __tablename__ = "call_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str] = mapped_column(ClippedString(128))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class OfferRow(Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent: Mapped[str] = mapped_column(String(128))
    ring_started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(ClippedString(32))


class CallbackRow(Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    number: Mapped[str] = mapped_column(ClippedString(128))
    preferred_time: Mapped[str | None] = mapped_column(ClippedString(128))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class SurveyRow(Base):
    __tablename__ = "survey_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    question: Mapped[str | None] = mapped_column(ClippedString(128))
    score: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class AgentStateRow(Base):
    """Every agent state change, in order: the latest row per agent is its state after a restart;
    consecutive rows are the intervals occupancy is computed from."""

    __tablename__ = "agent_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(ClippedString(128))
    call_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class CallbackAttemptRow(Base):
    """One try at keeping a callback promise: the operator rang first, then the customer."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(ClippedString(128))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class UserRow(Base):
    """A person who signs in to the browser pages: admin, supervisor or agent (linked to an ACD agent id)."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebSessionRow(Base):
    """A signed-in browser: only the SHA-256 of the cookie's token is kept, with the session's CSRF token.
    In the database (not in memory) so every node of a cluster knows every session."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class FlowVersionRow(Base):
    """Every publish of a flow from the browser (or a rollback): the YAML, who and when."""

    __tablename__ = "flow_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class RecordingRow(Base):
    """A recording of a conversation with an operator: file relative to the recordings directory."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    """Asterisk's live recording name (``YYYY-MM-DD/<call id>-<n>``)."""
    path: Mapped[str] = mapped_column(String(255))
    """File relative to the recordings directory (``YYYY-MM-DD/<call id>-<n>.wav``)."""
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RecordingPauseRow(Base):
    """A span of a recording left silent: a sensitive flow node, or the operator pressed pause."""

    __tablename__ = "recording_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    """``sensitive`` (a flow node) or ``operator`` (the panel's button) or ``supervisor``."""
    by: Mapped[str | None] = mapped_column(String(64))
    paused_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
