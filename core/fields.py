"""Limits of model fields, for code that checks input before the database does."""

from django.db import models


def field_max_length(model: type[models.Model], name: str) -> int:
    """The `max_length` of `model`'s text field `name`, so a service or serializer
    refuses overlong input with the column's own limit instead of a copy of it.

    Raises TypeError (at import, where it is read into a constant) if the field is
    not a CharField with a limit: a check that the limit exists, not a default."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"{model.__name__}.{name} is not a CharField with a max_length")
    return field.max_length
