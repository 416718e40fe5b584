"""tracking in one statement; the branches of issues 5, 6 and 7 joined

Revision ID: 0012
Revises: 0007, 0008, 0009, 0010, 0011
Create Date: 2026-11-28 23:50:00

Public tracking is the busiest route (every scan of a receipt's QR code). `motcua_track`
answers it in one round trip: it sets the tenant for row-level security, then reads the
dossier with its public timeline, its rating and which agencies opened it. It is neither
SECURITY DEFINER nor owned by the service role: it runs as its caller, so the forced
row-level security policies filter it exactly as they filter every other query.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = ("0007", "0008", "0009", "0010", "0011")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION motcua_track(p_tenant uuid, p_code text, p_full boolean)
        RETURNS TABLE (
            tracking_key text, status text, due_at timestamptz,
            procedure_code text, procedure_name text, agency_code text, agency_name text,
            timeliness text, rating json, timeline json, viewed json
        )
        LANGUAGE plpgsql AS $$
        BEGIN
            -- Transaction-local, like every tenant session: gone when the statement ends.
            PERFORM set_config('motcua.tenant_id', p_tenant::text, true);
            RETURN QUERY
            SELECT d.tracking_key::text, d.status::text, d.due_at,
                   d.procedure_code::text, d.procedure_name::text,
                   d.agency_code::text, d.agency_name::text, d.timeliness::text,
                   CASE WHEN p_full THEN (
                       SELECT json_build_object(
                           'attitude', r.attitude, 'result', r.result, 'comment', r.comment,
                           'created_at', r.created_at, 'updated_at', r.updated_at)
                       FROM ratings r
                       WHERE r.tenant_id = p_tenant AND r.dossier_code = d.code) END,
                   CASE WHEN p_full THEN (
                       SELECT coalesce(json_agg(json_build_object(
                           'action', e.action, 'agency', e.agency_name,
                           'to_agency', e.to_agency_name, 'note', e.note, 'at', e.at)
                           ORDER BY e.seq), '[]')
                       FROM dossier_events e
                       WHERE e.tenant_id = p_tenant AND e.dossier_code = d.code
                         AND e.public) END,
                   CASE WHEN p_full THEN (
                       SELECT coalesce(json_agg(json_build_object(
                           'agency', v.name, 'at', v.created_at) ORDER BY v.id DESC), '[]')
                       FROM (SELECT a.name, ae.created_at, ae.id
                             FROM audit_events ae
                             LEFT JOIN agencies a
                               ON a.tenant_id = ae.tenant_id AND a.code = ae.agency_code
                             WHERE ae.tenant_id = p_tenant AND ae.action = 'dossier.read'
                               AND ae.target = 'dossier:' || d.code
                             ORDER BY ae.id DESC LIMIT 100) v) END
            FROM dossiers d
            WHERE d.tenant_id = p_tenant AND d.code = p_code;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION motcua_track(uuid, text, boolean)")
