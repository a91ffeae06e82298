"""Read state: conversations' last message and activity, participants' read markers, the unread index.

Existing data is backfilled: a conversation's last message is its newest (by time, then id),
with its time (none for a conversation without messages: the list orders those by creation); a
participant's read marker is their own newest message there, as if posting had always moved it
(SPEC 7), else none.

Nullable columns and an index are only added, so SQLite upgrades in place with ALTER TABLE ADD
COLUMN: no batch rebuild, which would delete rows through foreign keys (see 0004).

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
    """UPDATE conversations SET last_message_at = (
           SELECT m.created_at FROM messages m WHERE m.id = conversations.last_message_id)""",
    """UPDATE conversation_participants SET last_read_message_id = (
           SELECT max(m.id) FROM messages m
           WHERE m.conversation_id = conversation_participants.conversation_id
           AND m.author_id = conversation_participants.user_id)""",
]


def upgrade():
    op.add_column('conversations', sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('conversations', sa.Column('last_message_id', sa.Integer(), nullable=True))
    op.add_column('conversation_participants', sa.Column('last_read_message_id', sa.Integer(), nullable=True))
    op.create_index('ix_messages_conversation_id_id_author_id', 'messages', ['conversation_id', 'id', 'author_id'],
                    unique=False)
    for statement in BACKFILL:
        op.execute(statement)


def downgrade():
    op.drop_index('ix_messages_conversation_id_id_author_id', table_name='messages')
    op.drop_column('conversation_participants', 'last_read_message_id')
    op.drop_column('conversations', 'last_message_id')
    op.drop_column('conversations', 'last_message_at')
