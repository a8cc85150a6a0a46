"""The shape of the code, checked: the layers import-linter cannot see."""

import ast
import re
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from training.celery import app

ROOT = Path(__file__).resolve().parent.parent
SELECTORS = [
    *sorted((ROOT / "training" / "selectors").glob("*.py")),
    *sorted((ROOT / "courses" / "selectors").glob("*.py")),
    ROOT / "training" / "readiness" / "counts.py",
    ROOT / "training" / "readiness" / "policy.py",
]
WRITES = {
    "save",
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "update_or_create",
    "get_or_create",
    "delete",
    "select_for_update",
    "execute_many",
}


def _writes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITES
            # `regions.update(...)` on a local dict is no write; a queryset's is.
            and not (node.func.attr == "update" and isinstance(node.func.value, ast.Name))
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.func.attr}()")
    return found


@pytest.mark.parametrize("path", SELECTORS, ids=lambda path: str(path.relative_to(ROOT)))
def test_selectors_never_write(path):
    assert _writes(path) == []
    # No raw SQL that writes either.
    text = path.read_text()
    assert not re.search(r"\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", text, re.I)


def test_courses_never_import_training():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "courses").rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.match(r"\s*(from training\b|import training\b)", line)
    ]
    assert offenders == []


def test_every_task_a_service_names_is_registered():
    names = set()
    for path in [*(ROOT / "training").rglob("*.py"), *(ROOT / "core").rglob("*.py")]:
        names |= set(re.findall(r"enqueue_on_commit\(\s*\"([\w.]+)\"", path.read_text()))
        names |= set(re.findall(r"current_app\.tasks\[\"([\w.]+)\"\]", path.read_text()))
    assert names, "the scan found no task names: has enqueue_on_commit changed?"
    for name in names:
        task = import_string(name)
        assert task.name == name
        assert name in app.tasks
