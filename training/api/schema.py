"""The error answers every operation of API v1 can give, added to the OpenAPI schema.

They come from the one error path (authentication, the scope permission, the rate
limit, the exception handler, the database middleware), not from each view, so
describing them once here keeps the schema true for every operation, including
the next one written. Answers a view documents itself are left as they are.
"""

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "description": "What went wrong, in words.",
}
INVALID = {
    "type": "object",
    "additionalProperties": True,
    "description": 'Invalid input: {"field": ["message"]} naming each wrong field, or '
    '{"detail": "message"}.',
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("InvalidInput", INVALID)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    invalid = {"application/json": {"schema": {"$ref": "#/components/schemas/InvalidInput"}}}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]

            def add(code: str, description: str, content=error, responses=responses) -> None:
                responses.setdefault(code, {"description": description, "content": content})

            parameters = operation.get("parameters", [])
            if operation.get("requestBody") or any(p.get("in") == "query" for p in parameters):
                add("400", "Invalid input; the body names what is wrong.", invalid)
            add("401", "No credentials, or a bad or revoked token.")
            add("403", "The token lacks the scope, or the person the permission.")
            if "{" in path:
                add("404", "No such object.")
            elif any(p.get("name") == "page" for p in parameters):
                add("404", "No such page (the pagination's answer to a page past the end).")
            if operation.get("requestBody"):
                add("415", "The body is not JSON.")
            add("429", "Too many requests from this client; retry after Retry-After seconds.")
            add("503", "The database is unavailable; retry after Retry-After seconds.")
    return result
