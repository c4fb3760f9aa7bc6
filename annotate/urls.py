"""URLs of the annotate app: the REST API under /api/ and the browser pages."""

from django.urls import include, path

urlpatterns = [
    path("api/", include("annotate.apis.urls")),
    path("", include("annotate.web.urls")),
]
