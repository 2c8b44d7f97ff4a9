"""Initial schema: calls, call_path, call_inputs, offers, callbacks, survey_results.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=False), nullable=nullable)


def _child_fk(table: str) -> sa.Column[object]:
    return sa.Column(
        "call_id",
        sa.String(64),
        sa.ForeignKey("calls.id", ondelete="CASCADE", name=f"fk_{table}_call_id_calls"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(128), nullable=True),
        sa.Column("caller_number", sa.String(128), nullable=True),
        sa.Column("caller_name", sa.Text(), nullable=True),
        sa.Column("dialed", sa.String(128), nullable=True),
        sa.Column("flow", sa.String(128), nullable=True),
        _ts("started_at", nullable=False),
        _ts("answered_at"),
        _ts("ended_at"),
        sa.Column("queue", sa.String(128), nullable=True),
        _ts("queued_at"),
        sa.Column("agent", sa.String(128), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("hangup_cause", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
    )
    op.create_index("ix_calls_channel_id", "calls", ["channel_id"])
    op.create_index("ix_calls_started_at", "calls", ["started_at"])

    op.create_table(
        "call_path",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _child_fk("call_path"),
        sa.Column("node_id", sa.String(128), nullable=False),
        _ts("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_path"),
    )
    op.create_index("ix_call_path_call_id", "call_path", ["call_id"])

    op.create_table(
        "call_inputs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _child_fk("call_inputs"),
        sa.Column("node_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        _ts("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_inputs"),
    )
    op.create_index("ix_call_inputs_call_id", "call_inputs", ["call_id"])

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _child_fk("offers"),
        sa.Column("agent", sa.String(128), nullable=False),
        _ts("ring_started_at", nullable=False),
        _ts("answered_at"),
        _ts("ended_at"),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_offers"),
    )
    op.create_index("ix_offers_call_id", "offers", ["call_id"])

    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "call_id",
            sa.String(64),
            sa.ForeignKey("calls.id", ondelete="SET NULL", name="fk_callbacks_call_id_calls"),
            nullable=True,
        ),
        sa.Column("number", sa.String(128), nullable=False),
        sa.Column("preferred_time", sa.String(128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_callbacks"),
    )
    op.create_index("ix_callbacks_call_id", "callbacks", ["call_id"])
    op.create_index("ix_callbacks_created_at", "callbacks", ["created_at"])

    op.create_table(
        "survey_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _child_fk("survey_results"),
        sa.Column("question", sa.String(128), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        _ts("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_results"),
    )
    op.create_index("ix_survey_results_call_id", "survey_results", ["call_id"])


def downgrade() -> None:
    for table in ("survey_results", "callbacks", "offers", "call_inputs", "call_path", "calls"):
        op.drop_table(table)
