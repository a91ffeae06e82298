"""Initial schema: users, posts and likes.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('email_status', sa.String(length=16), nullable=False),
    sa.Column('enrichment_status', sa.String(length=16), nullable=False),
    sa.Column('enrichment', sa.JSON(), nullable=True),
    sa.Column('email_verification', sa.JSON(), nullable=True),
    sa.Column('email_status_reason', sa.String(length=120), nullable=True),
    sa.Column('enrichment_status_reason', sa.String(length=120), nullable=True),
    sa.Column('checks_queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('invite_code', sa.String(length=6), nullable=False),
    sa.Column('activated_invite_code', sa.String(length=6), nullable=True),
    sa.Column('referred_by_id', sa.Integer(), nullable=True),
    sa.Column('referred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("email_status IN ('pending', 'valid', 'invalid', 'risky', 'unknown', 'failed', 'skipped')", name=op.f('ck_users_email_status_known')),
    sa.CheckConstraint("enrichment_status IN ('pending', 'found', 'not_found', 'failed', 'skipped')", name=op.f('ck_users_enrichment_status_known')),
    sa.CheckConstraint('points >= 0', name=op.f('ck_users_points_not_negative')),
    sa.ForeignKeyConstraint(['referred_by_id'], ['users.id'], name=op.f('fk_users_referred_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('invite_code', name=op.f('uq_users_invite_code')),
    sa.UniqueConstraint('phone', name=op.f('uq_users_phone'))
    )
    op.create_index(op.f('ix_users_referred_by_id'), 'users', ['referred_by_id'], unique=False)
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True)

    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('like_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('like_count >= 0', name=op.f('ck_posts_like_count_not_negative')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_posts_author_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    op.create_index('ix_posts_author_id_created_at_id', 'posts', ['author_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_posts_created_at_id', 'posts', ['created_at', 'id'], unique=False)

    op.create_table('likes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_likes_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_likes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'post_id', name=op.f('pk_likes'))
    )
    op.create_index('ix_likes_post_id_created_at_user_id', 'likes', ['post_id', 'created_at', 'user_id'], unique=False)



def downgrade():
    op.drop_index('ix_likes_post_id_created_at_user_id', table_name='likes')

    op.drop_table('likes')
    op.drop_index('ix_posts_created_at_id', table_name='posts')
    op.drop_index('ix_posts_author_id_created_at_id', table_name='posts')

    op.drop_table('posts')
    op.drop_index('uq_users_email_lower', table_name='users')
    op.drop_index(op.f('ix_users_referred_by_id'), table_name='users')

    op.drop_table('users')
