"""Root URLs. Each area of annotate/ contributes its own urlpatterns module."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("annotate.urls")),
]

# Unknown addresses get the same plain page as a missing project or clip.
handler404 = "annotate.web.views.page_not_found"
