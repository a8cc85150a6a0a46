from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    # `?page=last` is not a page number, and the schema says `page` is one.
    last_page_strings = ()

    def get_page_size(self, request):
        """`page_size` as the schema describes it: a whole number of 1 or more (more
        than 500 gives 500). Anything else is a 400 naming it, where DRF would
        silently use the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # ASCII digits only: int() would also read other scripts' digits.
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        gettext("Give a whole number of 1 or more (a page holds at most %(max)d).")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page (default {self.page_size}; above "
                    f"{self.max_page_size}, {self.max_page_size})."
                )
        return parameters
