"""How many active engineers each team has per region, kept by PostgreSQL (triggers).

The whole-release readiness count (training.readiness.counts._scoped_rows) needs the
engineers in the release's scope per region: with this table that is a sum over the
SDK's teams (a few rows) instead of reading every active engineer. A row trigger on
training_engineer adds and takes away in the writing transaction, whoever writes
(the ORM, bulk inserts, SCIM, the admin, raw SQL, a team deleted and its engineers
set to no team). The table is the database's alone, like `scope_region` (0014):
no Django model. SQLite has neither and counts with the join.
tests/training/test_readiness_scope.py checks the sums against the engineers.
"""

from django.db import migrations

SQL = """
CREATE TABLE training_team_region_count (
    -- No foreign key: Django's flush truncates the model tables, which a reference
    -- to training_team would refuse; the TRUNCATE trigger below empties this too.
    team_id bigint NOT NULL,
    region varchar(4) NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (team_id, region)
);

CREATE FUNCTION training_team_region_add(p_team bigint, p_region varchar, p_delta integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO training_team_region_count (team_id, region, n)
    VALUES (p_team, p_region, p_delta)
    ON CONFLICT (team_id, region) DO UPDATE SET n = training_team_region_count.n + p_delta
$$;

CREATE FUNCTION training_engineer_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.active AND OLD.team_id IS NOT NULL THEN
        PERFORM training_team_region_add(OLD.team_id, OLD.region, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.active AND NEW.team_id IS NOT NULL THEN
        PERFORM training_team_region_add(NEW.team_id, NEW.region, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER training_engineer_count_insert_delete
AFTER INSERT OR DELETE ON training_engineer
FOR EACH ROW EXECUTE FUNCTION training_engineer_count();

CREATE TRIGGER training_engineer_count_update
AFTER UPDATE OF active, team_id, region ON training_engineer
FOR EACH ROW
WHEN (OLD.active IS DISTINCT FROM NEW.active
      OR OLD.team_id IS DISTINCT FROM NEW.team_id
      OR OLD.region IS DISTINCT FROM NEW.region)
EXECUTE FUNCTION training_engineer_count();

CREATE FUNCTION training_engineer_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM training_team_region_count;
    RETURN NULL;
END $$;

CREATE TRIGGER training_engineer_count_truncate
AFTER TRUNCATE ON training_engineer
FOR EACH STATEMENT EXECUTE FUNCTION training_engineer_count_truncate();

INSERT INTO training_team_region_count (team_id, region, n)
SELECT team_id, region, COUNT(*) FROM training_engineer
WHERE active AND team_id IS NOT NULL
GROUP BY team_id, region;
"""

DROP = """
DROP TRIGGER IF EXISTS training_engineer_count_truncate ON training_engineer;
DROP FUNCTION IF EXISTS training_engineer_count_truncate();
DROP TRIGGER IF EXISTS training_engineer_count_update ON training_engineer;
DROP TRIGGER IF EXISTS training_engineer_count_insert_delete ON training_engineer;
DROP FUNCTION IF EXISTS training_engineer_count();
DROP FUNCTION IF EXISTS training_team_region_add(bigint, varchar, integer);
DROP TABLE IF EXISTS training_team_region_count;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("training", "0019_scim_identity")]

    operations = [migrations.RunPython(forwards, backwards)]
