"""Django admin: people (teams, engineers, assignments, tokens, audit) and what a
release and a course do to people, on top of the content admin of courses.admin."""

from training.admin import people, releases

__all__ = ["people", "releases"]
