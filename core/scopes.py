"""What an API token may do. The token model lives with the people (training);
both apps' API views name the scope they need from here."""

from django.db import models


class Scope(models.TextChoices):
    RELEASES = "releases"
    RELEASES_OVERRIDE = "releases:override"
    CATALOG = "catalog"
    PEOPLE = "people"
    ASSIGNMENTS = "assignments"
