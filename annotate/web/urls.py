"""Pages of the browser UI, mounted at the site root."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.decorators.csrf import ensure_csrf_cookie

from annotate.web import views

app_name = "web"

urlpatterns = [
    path(
        "login/",
        ensure_csrf_cookie(
            auth_views.LoginView.as_view(
                template_name="annotate/login.html", redirect_authenticated_user=True
            )
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.project_list, name="project_list"),
    path("projects/<int:project_id>/", views.project_detail, name="project_detail"),
    path("projects/<int:project_id>/dashboard/", views.project_dashboard, name="project_dashboard"),
    path("projects/<int:project_id>/settings/", views.project_settings, name="project_settings"),
    path("videos/<int:video_id>/", views.video_workspace, name="video_workspace"),
    path("videos/<int:video_id>/dashboard/", views.video_dashboard, name="video_dashboard"),
    path("favicon.ico", views.favicon, name="favicon"),
]
