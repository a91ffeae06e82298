"""Proven addresses: users.email_confirmed, and enrichment_status 'unconfirmed' until then.

Existing accounts start unconfirmed: nobody has yet proven they read their address's mail, so
an account taken with someone else's address is not vouched for by this migration. Their
email_status and any enrichment already stored stay as they are; a new enrichment waits for a
confirmation (POST /api/v1/auth/email/code, then /confirm).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_STATUSES = "enrichment_status IN ('pending', 'found', 'not_found', 'failed', 'skipped')"
NEW_STATUSES = "enrichment_status IN ('unconfirmed', 'pending', 'found', 'not_found', 'failed', 'skipped')"


def upgrade():
    op.add_column('users', sa.Column('email_confirmed', sa.Boolean(), server_default=sa.false(), nullable=False))
    replace_enrichment_check(OLD_STATUSES, NEW_STATUSES)


def downgrade():
    op.execute("UPDATE users SET enrichment_status = 'skipped' WHERE enrichment_status = 'unconfirmed'")
    replace_enrichment_check(NEW_STATUSES, OLD_STATUSES)
    op.drop_column('users', 'email_confirmed')


def replace_enrichment_check(old: str, new: str) -> None:
    """Swap the CHECK on enrichment_status for one allowing ``new``'s values.

    PostgreSQL alters the table. SQLite cannot alter a CHECK, and rebuilding the table (Alembic's
    batch mode) would drop it with foreign keys on, deleting every post and referral through
    their ON DELETE actions. Every row meets the wider CHECK, so SQLite's documented procedure for
    schema changes that leave the stored rows alone applies: edit the table's SQL in sqlite_schema
    and bump schema_version, in this transaction (https://www.sqlite.org/lang_altertable.html).
    """
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_users_enrichment_status_known'), 'users', type_='check')
        op.create_check_constraint(op.f('ck_users_enrichment_status_known'), 'users', new)
        return
    connection = op.get_bind()
    version = connection.exec_driver_sql('PRAGMA schema_version').scalar()
    connection.exec_driver_sql('PRAGMA writable_schema = ON')
    connection.execute(sa.text("UPDATE sqlite_schema SET sql = replace(sql, :old, :new) "
                               "WHERE type = 'table' AND name = 'users'"), {"old": old, "new": new})
    connection.exec_driver_sql(f'PRAGMA schema_version = {version + 1}')
    connection.exec_driver_sql('PRAGMA writable_schema = OFF')
