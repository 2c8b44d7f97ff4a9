"""ACD: agent state log (agent, state, reason, call, at) and callback attempts (call, attempt, outcome, at).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "agent_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(128), nullable=True),
        sa.Column("call_id", sa.String(64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_agent_states"),
    )
    op.create_index("ix_agent_states_agent", "agent_states", ["agent"])
    op.create_index("ix_agent_states_at", "agent_states", ["at"])
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_callback_attempts"),
    )
    op.create_index("ix_callback_attempts_call_id", "callback_attempts", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_callback_attempts_call_id", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index("ix_agent_states_at", table_name="agent_states")
    op.drop_index("ix_agent_states_agent", table_name="agent_states")
    op.drop_table("agent_states")
