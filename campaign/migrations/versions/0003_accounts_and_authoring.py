"""accounts, organizers, audit log, petition versions, slug redirects, demand counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:59:14.203635

"""
from alembic import op
import sqlalchemy as sa

import campaign.db


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('slug_redirects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('old_slug', sa.String(length=80), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slug_redirects')),
    sa.UniqueConstraint('kind', 'old_slug', name=op.f('uq_slug_redirects_kind'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_key', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.Enum('admin', 'organizer', name='user_role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('is_active_account', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('last_login_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email_key', name=op.f('uq_users_email_key'))
    )
    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('invitation', 'password_reset', 'email_change', name='token_purpose', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('new_email', sa.String(length=320), nullable=False),
    sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('subject_type', sa.String(length=30), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_audit_log_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_organizers',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_organizers_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_campaign_organizers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'user_id', name=op.f('pk_campaign_organizers'))
    )
    with op.batch_alter_table('campaign_organizers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_organizers_user_id'), ['user_id'], unique=False)

    op.create_table('demand_count_shards',
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_demand_count_shards_demand_id_demands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('demand_id', 'shard', name=op.f('pk_demand_count_shards'))
    )
    op.create_table('petition_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['petition_id'], ['petitions.id'], name=op.f('fk_petition_versions_petition_id_petitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_versions')),
    sa.UniqueConstraint('petition_id', 'version', name=op.f('uq_petition_versions_petition_id'))
    )
    op.create_table('signature_demands',
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demands.id'], name=op.f('fk_signature_demands_demand_id_demands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_signature_demands_signature_id_signatures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('signature_id', 'demand_id', name=op.f('pk_signature_demands'))
    )
    with op.batch_alter_table('signature_demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signature_demands_demand_id'), ['demand_id'], unique=False)

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_image', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('unpublished_reason', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_fields', sa.JSON(), nullable=False, server_default='["postal_code"]'))
        batch_op.add_column(sa.Column('consent_wording', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('signers_choose_demands', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('current_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('text_edited_at', campaign.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('petition_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('utm_source', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('utm_medium', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('utm_campaign', sa.String(length=100), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('referrer_host', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('is_comment_hidden', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('invalidated_reason', sa.Text(), nullable=False, server_default=''))

    # Existing rows got the defaults above; from now on the application supplies them.
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.alter_column('share_image', server_default=None)
        batch_op.alter_column('unpublished_reason', server_default=None)
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.alter_column('required_fields', server_default=None)
        batch_op.alter_column('consent_wording', server_default=None)
        batch_op.alter_column('signers_choose_demands', server_default=None)
        batch_op.alter_column('current_version', server_default=None)
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.alter_column('petition_version', server_default=None)
        batch_op.alter_column('utm_source', server_default=None)
        batch_op.alter_column('utm_medium', server_default=None)
        batch_op.alter_column('utm_campaign', server_default=None)
        batch_op.alter_column('referrer_host', server_default=None)
        batch_op.alter_column('is_comment_hidden', server_default=None)
        batch_op.alter_column('invalidated_reason', server_default=None)


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('invalidated_reason')
        batch_op.drop_column('is_comment_hidden')
        batch_op.drop_column('referrer_host')
        batch_op.drop_column('utm_campaign')
        batch_op.drop_column('utm_medium')
        batch_op.drop_column('utm_source')
        batch_op.drop_column('petition_version')

    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_column('text_edited_at')
        batch_op.drop_column('current_version')
        batch_op.drop_column('signers_choose_demands')
        batch_op.drop_column('consent_wording')
        batch_op.drop_column('required_fields')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('unpublished_reason')
        batch_op.drop_column('share_image')

    with op.batch_alter_table('signature_demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_demands_demand_id'))

    op.drop_table('signature_demands')
    op.drop_table('petition_versions')
    op.drop_table('demand_count_shards')
    with op.batch_alter_table('campaign_organizers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_organizers_user_id'))

    op.drop_table('campaign_organizers')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))

    op.drop_table('audit_log')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))

    op.drop_table('account_tokens')
    op.drop_table('users')
    op.drop_table('slug_redirects')
