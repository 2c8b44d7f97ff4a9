"""Agent state log (ACD): agent, state, reason, call, at.

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


def downgrade() -> None:
    op.drop_index("ix_agent_states_at", table_name="agent_states")
    op.drop_index("ix_agent_states_agent", table_name="agent_states")
    op.drop_table("agent_states")
