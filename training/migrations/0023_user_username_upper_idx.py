"""An index on UPPER(auth_user.username), for SCIM's case-insensitive userName.

RFC 7643 makes userName case-insensitive, so SCIM looks users up with Django's
`iexact` (`UPPER(username::text) = UPPER(%s)` on PostgreSQL): an identity provider's
`filter=userName eq "…"` before each create, and the uniqueness check of every
POST /Users (training.services.scim.scim_user_create). Without this index each of
them read the whole user table: 78 ms per lookup at 118,000 users, most of a SCIM
POST's time (bench/findings.md). The expression must stay exactly what Django
writes for `iexact` for the planner to use it.

auth_user belongs to django.contrib.auth, so the index is raw SQL (no model state
changes), built CONCURRENTLY so that a large user table stays writable meanwhile
(hence a non-atomic migration). SQLite compares with LIKE and is left as it is.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS auth_user_username_upper_idx "
    "ON auth_user (UPPER(username::text))"
)
DROP = "DROP INDEX CONCURRENTLY IF EXISTS auth_user_username_upper_idx"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("training", "0022_playbook_verified_audit"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
