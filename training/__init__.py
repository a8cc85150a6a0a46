"""Preflight: the Django project, and the app for people, skills, assignments and readiness."""

from .celery import app as celery_app

__all__ = ("celery_app",)
