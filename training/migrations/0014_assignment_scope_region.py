"""The whole-release readiness count without a join (PostgreSQL).

Each release assignment carries `scope_region`: the region its engineer counts in
for that release, or NULL while the engineer is out of the release's scope
(inactive, or on a team that does not support the release's SDK). PostgreSQL keeps
it with triggers, whoever writes (the ORM, bulk inserts, the fan-out's INSERT ...
SELECT, the admin, raw SQL), in the writing transaction:

- an assignment inserted, or moved to another engineer or release: set from its
  engineer (BEFORE trigger: the row is written once);
- an engineer's `active`, `team_id` or `region` changed: all their assignments;
- a team's SDKs changed (training_team_sdks rows inserted, deleted, updated): the
  assignments of that team's engineers for releases of that SDK;
- a release moved to another SDK: its assignments.

The column is the database's alone: the Django model does not declare it, so the
ORM never writes a stale value back. training.readiness.counts reads it (the
release's assignments grouped by region from one partial index, in index order,
with no join to the engineers); SQLite has neither column nor triggers and counts
with the join. tests/training/test_readiness_scope.py checks that both agree
after each kind of write.
"""

from django.db import migrations, models
from django.db.models import Q

FUNCTIONS = """
CREATE FUNCTION training_scope_region(p_engineer bigint, p_release bigint)
RETURNS varchar LANGUAGE sql STABLE AS $$
    SELECT e.region
    FROM training_engineer e, courses_release r
    WHERE e.id = p_engineer AND r.id = p_release AND e.active
      AND EXISTS (
          SELECT 1 FROM training_team_sdks ts
          WHERE ts.team_id = e.team_id AND ts.sdk_id = r.sdk_id
      )
$$;

CREATE FUNCTION training_assignment_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.release_id IS NULL THEN
        NEW.scope_region := NULL;
    ELSE
        NEW.scope_region := training_scope_region(NEW.engineer_id, NEW.release_id);
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION training_engineer_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE training_assignment
    SET scope_region = training_scope_region(engineer_id, release_id)
    WHERE engineer_id = NEW.id AND release_id IS NOT NULL;
    RETURN NULL;
END $$;

CREATE FUNCTION training_team_sdks_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE training_assignment a
        SET scope_region = training_scope_region(a.engineer_id, a.release_id)
        FROM training_engineer e, courses_release r
        WHERE e.team_id = OLD.team_id AND a.engineer_id = e.id
          AND r.id = a.release_id AND r.sdk_id = OLD.sdk_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE training_assignment a
        SET scope_region = training_scope_region(a.engineer_id, a.release_id)
        FROM training_engineer e, courses_release r
        WHERE e.team_id = NEW.team_id AND a.engineer_id = e.id
          AND r.id = a.release_id AND r.sdk_id = NEW.sdk_id;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION training_release_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE training_assignment
    SET scope_region = training_scope_region(engineer_id, release_id)
    WHERE release_id = NEW.id;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
ALTER TABLE training_assignment ADD COLUMN scope_region varchar(4) NULL;

CREATE TRIGGER training_assignment_scope
BEFORE INSERT OR UPDATE OF engineer_id, release_id ON training_assignment
FOR EACH ROW EXECUTE FUNCTION training_assignment_scope();

CREATE TRIGGER training_engineer_scope
AFTER UPDATE OF active, team_id, region ON training_engineer
FOR EACH ROW
WHEN (OLD.active IS DISTINCT FROM NEW.active
      OR OLD.team_id IS DISTINCT FROM NEW.team_id
      OR OLD.region IS DISTINCT FROM NEW.region)
EXECUTE FUNCTION training_engineer_scope();

CREATE TRIGGER training_team_sdks_scope
AFTER INSERT OR UPDATE OR DELETE ON training_team_sdks
FOR EACH ROW EXECUTE FUNCTION training_team_sdks_scope();

CREATE TRIGGER training_release_scope
AFTER UPDATE OF sdk_id ON courses_release
FOR EACH ROW WHEN (OLD.sdk_id IS DISTINCT FROM NEW.sdk_id)
EXECUTE FUNCTION training_release_scope();

UPDATE training_assignment
SET scope_region = training_scope_region(engineer_id, release_id)
WHERE release_id IS NOT NULL;

-- The count's one read of the assignments: grouped in index order, no sort, no hash.
CREATE INDEX assignment_scope_count_idx ON training_assignment
    (release_id, scope_region, course_id, status, due_at)
    WHERE mandatory AND reason = 'release' AND scope_region IS NOT NULL;
"""

DROP = """
DROP TRIGGER IF EXISTS training_release_scope ON courses_release;
DROP TRIGGER IF EXISTS training_team_sdks_scope ON training_team_sdks;
DROP TRIGGER IF EXISTS training_engineer_scope ON training_engineer;
DROP TRIGGER IF EXISTS training_assignment_scope ON training_assignment;
DROP INDEX IF EXISTS assignment_scope_count_idx;
ALTER TABLE training_assignment DROP COLUMN IF EXISTS scope_region;
DROP FUNCTION IF EXISTS training_release_scope();
DROP FUNCTION IF EXISTS training_team_sdks_scope();
DROP FUNCTION IF EXISTS training_engineer_scope();
DROP FUNCTION IF EXISTS training_assignment_scope();
DROP FUNCTION IF EXISTS training_scope_region(bigint, bigint);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS + TRIGGERS)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0004_course_recertifies"),
        ("training", "0013_attempt_failed_idx"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        # The engineers in a release's scope, counted per region from this index
        # alone (replaces the merge join's (id) INCLUDE (team, region) index).
        migrations.RemoveIndex(model_name="engineer", name="engineer_readiness_idx"),
        migrations.AddIndex(
            model_name="engineer",
            index=models.Index(
                fields=["team", "region"], condition=Q(active=True), name="engineer_scope_idx"
            ),
        ),
    ]
