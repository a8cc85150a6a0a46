"""What an API token may do. The token model lives with the people (training);
both apps' API views name the scope they need from here."""

from django.db import models


class Scope(models.TextChoices):
    RELEASES = "releases"
    RELEASES_OVERRIDE = "releases:override"
    CATALOG = "catalog"
    PEOPLE = "people"
    ASSIGNMENTS = "assignments"
    # SCIM provisioning (/scim/v2/): an identity provider creates, changes and
    # deactivates engineers and teams. Its own scope: an HR script with `people`
    # does not get it, nor the reverse.
    SCIM = "scim"
