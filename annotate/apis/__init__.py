"""The REST API under /api/: thin DRF views, one module per area, each with its own urlpatterns.

A view validates input with a serializer, calls one selector or service, and serializes the result.
Service errors become HTTP statuses in annotate.apis.exceptions.api_exception_handler.
"""
