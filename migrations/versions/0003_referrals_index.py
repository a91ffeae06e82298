"""Referrals are listed newest first: index them by referrer and referral time.

The single-column index on referred_by_id found a user's referrals but every page (and the
profile's first 100) then sorted all of them; (referred_by_id, referred_at, id) serves the
keyset order directly, and its prefix still serves the count.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_users_referred_by_id_referred_at_id', 'users', ['referred_by_id', 'referred_at', 'id'],
                    unique=False)
    op.drop_index('ix_users_referred_by_id', table_name='users')


def downgrade():
    op.create_index('ix_users_referred_by_id', 'users', ['referred_by_id'], unique=False)
    op.drop_index('ix_users_referred_by_id_referred_at_id', table_name='users')
