"""privacy: anonymised signatures, petition closing time, supporter links

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 15:21:31.065873

"""
from alembic import op
import sqlalchemy as sa

import campaign.db


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', campaign.db.UTCDateTime(timezone=True), nullable=True))
    # Petitions closed before this revision: their last change is the best guess of when.
    op.execute("UPDATE petitions SET closed_at = updated_at WHERE status = 'closed'")

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', campaign.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column('supporter_id', existing_type=sa.INTEGER(), nullable=True)

    op.create_table('supporter_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('sign_in', 'erase', name='supporter_link_purpose', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporters.id'], name=op.f('fk_supporter_links_supporter_id_supporters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporter_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_supporter_links_token_hash'))
    )
    with op.batch_alter_table('supporter_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporter_links_supporter_id'), ['supporter_id'], unique=False)


def downgrade():
    op.drop_table('supporter_links')
    # Anonymised signatures name nobody: the older schema cannot hold them.
    op.execute("DELETE FROM signatures WHERE supporter_id IS NULL")
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.alter_column('supporter_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('anonymised_at')

    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
