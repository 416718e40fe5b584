"""late dossiers: a new promised date with an apology, and the sweep's marker

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00

- `dossiers.first_due_at`: the first promise, kept when a reschedule replaced it (null: never
  rescheduled). Timeliness is counted against it: a rescheduled dossier finished after its
  first promise is late ("quá hạn"), as the national rule counts it.
- `dossiers.late_notified_due_at`: the promise whose passing the citizen has been
  apologised for; the sweep sets it with a guarded UPDATE, so one apology per promise.
- `dossier_events.due_at`: the promise a reschedule event set, shown in the timeline.
- `motcua_track` answers the first promise and each event's new date too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _track(with_reschedules: bool) -> str:
    """motcua_track as 0012 wrote it, or with the first promise and events' new dates."""
    first = ", first_due_at timestamptz" if with_reschedules else ""
    first_value = ", d.first_due_at" if with_reschedules else ""
    event_due = ", 'due_at', e.due_at" if with_reschedules else ""
    return f"""
        CREATE FUNCTION motcua_track(p_tenant uuid, p_code text, p_full boolean)
        RETURNS TABLE (
            tracking_key text, status text, due_at timestamptz,
            procedure_code text, procedure_name text, agency_code text, agency_name text,
            timeliness text, rating json, timeline json, viewed json{first}
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
                           'to_agency', e.to_agency_name, 'note', e.note, 'at', e.at{event_due})
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
                             ORDER BY ae.id DESC LIMIT 100) v) END{first_value}
            FROM dossiers d
            WHERE d.tenant_id = p_tenant AND d.code = p_code;
        END
        $$
        """


def upgrade() -> None:
    op.add_column("dossiers", sa.Column("first_due_at", sa.DateTime(timezone=True)))
    op.add_column("dossiers", sa.Column("late_notified_due_at", sa.DateTime(timezone=True)))
    op.add_column("dossier_events", sa.Column("due_at", sa.DateTime(timezone=True)))
    # The return type changes: a new function, not CREATE OR REPLACE.
    op.execute("DROP FUNCTION motcua_track(uuid, text, boolean)")
    op.execute(_track(with_reschedules=True))


def downgrade() -> None:
    op.execute("DROP FUNCTION motcua_track(uuid, text, boolean)")
    op.execute(_track(with_reschedules=False))
    op.drop_column("dossier_events", "due_at")
    op.drop_column("dossiers", "late_notified_due_at")
    op.drop_column("dossiers", "first_due_at")
