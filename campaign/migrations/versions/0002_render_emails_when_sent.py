"""render emails when they are sent: keep template, locale and context

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 03:41:20.955423

"""
from alembic import op
import sqlalchemy as sa

import campaign.db


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Rows written before this revision were rendered already: they need no
    # template, and the defaults only fill the new columns for them.
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=50), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=False,
                                      server_default='en'))
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=False,
                                      server_default='{}'))
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.alter_column('template', server_default=None)
        batch_op.alter_column('locale', server_default=None)
        batch_op.alter_column('context', server_default=None)


def downgrade():
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.drop_column('context')
        batch_op.drop_column('locale')
        batch_op.drop_column('template')
