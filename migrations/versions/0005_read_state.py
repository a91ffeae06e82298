"""Read state: conversations' last message and activity, participants' read markers, the unread index.

Existing data is backfilled: a conversation's last message is its newest (by time, then id), its
last activity that message's time or, with none, its creation; a participant's read marker is
their own newest message there, as if posting had always moved it (SPEC 7), else none.

Columns are only added, so SQLite upgrades in place with ALTER TABLE ADD COLUMN: no batch
rebuild, which would delete rows through foreign keys (see 0004). SQLite cannot add a NOT NULL
column without a default, nor drop one later: last_activity_at keeps a constant default there,
never used, since every insert names it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BACKFILL = [
    """UPDATE conversations SET last_message_id = (
           SELECT m.id FROM messages m WHERE m.conversation_id = conversations.id
           ORDER BY m.created_at DESC, m.id DESC LIMIT 1)""",
    """UPDATE conversations SET last_activity_at = COALESCE(
           (SELECT m.created_at FROM messages m WHERE m.id = conversations.last_message_id), created_at)""",
    """UPDATE conversation_participants SET last_read_message_id = (
           SELECT max(m.id) FROM messages m
           WHERE m.conversation_id = conversation_participants.conversation_id
           AND m.author_id = conversation_participants.user_id)""",
]


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.add_column('conversations', sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=not sqlite,
                                             server_default='1970-01-01 00:00:00' if sqlite else None))
    op.add_column('conversations', sa.Column('last_message_id', sa.Integer(), nullable=True))
    op.add_column('conversation_participants', sa.Column('last_read_message_id', sa.Integer(), nullable=True))
    op.create_index('ix_messages_conversation_id_id_author_id', 'messages', ['conversation_id', 'id', 'author_id'],
                    unique=False)
    for statement in BACKFILL:
        op.execute(statement)
    if not sqlite:
        op.alter_column('conversations', 'last_activity_at', nullable=False)


def downgrade():
    op.drop_index('ix_messages_conversation_id_id_author_id', table_name='messages')
    op.drop_column('conversation_participants', 'last_read_message_id')
    op.drop_column('conversations', 'last_message_id')
    op.drop_column('conversations', 'last_activity_at')
