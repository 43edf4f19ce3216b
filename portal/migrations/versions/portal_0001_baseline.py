"""Portal baseline: the tables `metadata.create_all` made before the portal had migrations

The fault plan's table (`portal_faults`), made by the same `create_all`, is the fault layer's:
`faults/portal_migrations` creates it, or adopts it where it exists.

Revision ID: portal_0001
Revises:
Create Date: 2026-11-26 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "portal_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_publications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pipeline", sa.String(length=128), nullable=False),
        sa.Column("partition", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "pipeline", "partition", "kind", "version", name="uq_portal_pub_version"
        ),
    )
    op.create_index("ix_portal_pub_key", "portal_publications", ["pipeline", "partition", "kind"])
    op.create_table(
        "portal_idempotency_keys",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("publication_id", sa.String(length=32), nullable=False),
        sa.Column("pipeline", sa.String(length=128), nullable=False),
        sa.Column("partition", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["publication_id"], ["portal_publications.id"]),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("portal_idempotency_keys")
    op.drop_table("portal_publications")
