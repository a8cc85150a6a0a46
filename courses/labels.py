"""Words for the catalog's stored values, in the active language (the models' choice
labels are English and part of the schema)."""

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from courses.models import Release

# Keyed by the stored value: callers look up a model's `status`, a plain str.
RELEASE_STATUSES: dict[str, Promise] = {
    Release.Status.DRAFT: pgettext_lazy("release status", "draft"),
    Release.Status.PUBLISHED: pgettext_lazy("release status", "published"),
    Release.Status.AVAILABLE: pgettext_lazy("release status", "available"),
    Release.Status.WITHDRAWN: pgettext_lazy("release status", "withdrawn"),
}
