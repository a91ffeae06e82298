"""Each participant's row carries its conversation's activity, so a user's list walks one index.

Backfilled from the conversation (its newest message's time, else its creation). The old
(user_id, conversation_id) index is replaced by (user_id, activity_at, conversation_id), which
also serves every lookup by user. SQLite upgrades in place (ADD COLUMN, no batch rebuild: see
0004), so there the column stays nullable; the application always writes it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BACKFILL = """UPDATE conversation_participants SET activity_at = (
    SELECT COALESCE(c.last_message_at, c.created_at) FROM conversations c
    WHERE c.id = conversation_participants.conversation_id)"""


def upgrade():
    op.add_column('conversation_participants', sa.Column('activity_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('conversation_participants', 'activity_at', nullable=False)
    op.create_index('ix_conversation_participants_user_id_activity_at', 'conversation_participants',
                    ['user_id', 'activity_at', 'conversation_id'], unique=False)
    op.drop_index('ix_conversation_participants_user_id', table_name='conversation_participants')


def downgrade():
    op.create_index('ix_conversation_participants_user_id', 'conversation_participants',
                    ['user_id', 'conversation_id'], unique=False)
    op.drop_index('ix_conversation_participants_user_id_activity_at', table_name='conversation_participants')
    op.drop_column('conversation_participants', 'activity_at')
