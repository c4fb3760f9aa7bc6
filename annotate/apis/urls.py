"""URLs of the REST API, mounted at /api/. One include per area module; add yours to the list."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("annotate.apis.auth")),
    path("", include("annotate.apis.projects")),
    path("", include("annotate.apis.classes")),
    path("", include("annotate.apis.members")),
    path("", include("annotate.apis.videos")),
    path("", include("annotate.apis.frames")),
    path("", include("annotate.apis.tracks")),
    path("", include("annotate.apis.boxes")),
    path("", include("annotate.apis.generations")),
    path("", include("annotate.apis.corrections")),
    path("", include("annotate.apis.undo")),
    path("", include("annotate.apis.efficiency")),
    path("", include("annotate.apis.exchange")),
    path("", include("annotate.apis.docs")),
]
