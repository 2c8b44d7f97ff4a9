"""Browser: users, web sessions, flow versions, recordings and their paused spans.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        _at("created_at"),
        _at("password_changed_at"),
        sa.PrimaryKeyConstraint("name", name="pk_users"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_web_sessions"),
        sa.ForeignKeyConstraint(
            ["user_name"], ["users.name"], name="fk_web_sessions_user_name_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_web_sessions_user_name", "web_sessions", ["user_name"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "flow_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _at("at"),
        sa.PrimaryKeyConstraint("id", name="pk_flow_versions"),
    )
    op.create_index("ix_flow_versions_flow", "flow_versions", ["flow"])
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        _at("started_at"),
        _at("ended_at", nullable=True),
        _at("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name="fk_recordings_call_id_calls", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"])
    op.create_index("ix_recordings_started_at", "recordings", ["started_at"])
    op.create_table(
        "recording_pauses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("by", sa.String(64), nullable=True),
        _at("paused_at"),
        _at("resumed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_recording_pauses"),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name="fk_recording_pauses_recording_id_recordings",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_recording_pauses_recording_id", "recording_pauses", ["recording_id"])


def downgrade() -> None:
    op.drop_index("ix_recording_pauses_recording_id", table_name="recording_pauses")
    op.drop_table("recording_pauses")
    op.drop_index("ix_recordings_started_at", table_name="recordings")
    op.drop_index("ix_recordings_call_id", table_name="recordings")
    op.drop_table("recordings")
    op.drop_index("ix_flow_versions_flow", table_name="flow_versions")
    op.drop_table("flow_versions")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_user_name", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("users")
