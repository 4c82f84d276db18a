"""The audit log refuses TRUNCATE on PostgreSQL (a statement-level trigger: row triggers never see a TRUNCATE);
coverages get a version for optimistic locking (If-Match).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":  # SQLite has no TRUNCATE; its DELETE trigger covers it
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()")  # fmt: skip
    with op.batch_alter_table("coverages") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("coverages") as batch:
        batch.drop_column("version")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
