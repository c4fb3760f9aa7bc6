"""Every endpoint of the API, called by every role: refused (403) below its rule, allowed at or above.

The endpoints are read from the URL conf, so an endpoint added without a rule here fails
``test_every_endpoint_has_a_rule``; the rules are the ones annotate.permissions documents.
"""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from annotate.models import (
    Box,
    ExportJob,
    Generation,
    ImportJob,
    JobStatus,
    LabelClass,
    Membership,
    Project,
    Role,
    Track,
    Video,
)
from tests.factories import (
    BoxFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    VideoFactory,
    make_frames,
)

pytestmark = pytest.mark.django_db

ANY = "any signed-in user"
VIEW, ANN, MGR, OWN = Role.VIEWER, Role.ANNOTATOR, Role.MANAGER, Role.OWNER
ROLES = [VIEW, ANN, MGR, OWN]
RANK = {VIEW: 0, ANN: 1, MGR: 2, OWN: 3}

# (url name, method) -> the lowest role allowed.
RULES: dict[tuple[str, str], str] = {
    ("auth-token", "POST"): ANY,
    ("auth-token-revoke", "POST"): ANY,
    ("me", "GET"): ANY,
    ("schema", "GET"): ANY,
    ("docs", "GET"): ANY,
    ("project-list", "GET"): ANY,
    ("project-list", "POST"): ANY,
    ("project-detail", "GET"): VIEW,
    ("project-detail", "PATCH"): MGR,
    ("project-detail", "DELETE"): OWN,
    ("class-list", "GET"): VIEW,
    ("class-list", "POST"): MGR,
    ("class-detail", "PATCH"): MGR,
    ("class-detail", "DELETE"): MGR,
    ("class-order", "POST"): MGR,
    ("member-list", "GET"): VIEW,
    ("member-list", "POST"): MGR,
    ("member-detail", "PATCH"): MGR,
    ("member-detail", "DELETE"): MGR,
    ("video-list", "GET"): VIEW,
    ("video-list", "POST"): MGR,
    ("video-detail", "GET"): VIEW,
    ("video-detail", "DELETE"): MGR,
    ("video-retry", "POST"): MGR,
    ("frame-list", "GET"): VIEW,
    ("frame-image", "GET"): VIEW,
    ("track-list", "GET"): VIEW,
    ("track-list", "POST"): ANN,
    ("track-detail", "GET"): VIEW,
    ("track-detail", "PATCH"): ANN,
    ("track-detail", "DELETE"): ANN,
    ("box-list", "GET"): VIEW,
    ("box-list", "POST"): ANN,
    ("box-detail", "GET"): VIEW,
    ("box-detail", "PATCH"): ANN,
    ("box-detail", "DELETE"): ANN,
    ("box-accept", "POST"): ANN,
    ("frame-accept-all", "POST"): ANN,
    ("box-restore", "POST"): ANN,
    ("box-undo-create", "POST"): ANN,
    ("box-undo-edit", "POST"): ANN,
    ("box-unaccept", "POST"): ANN,
    ("frame-accept-all-undo", "POST"): ANN,
    ("generation-list", "GET"): VIEW,
    ("generation-list", "POST"): ANN,
    ("generation-detail", "GET"): VIEW,
    ("generation-cancel", "POST"): ANN,
    ("generation-model", "GET"): MGR,
    ("project-models", "GET"): VIEW,
    ("suggestion-list", "GET"): VIEW,
    ("video-efficiency", "GET"): VIEW,
    ("project-efficiency", "GET"): VIEW,
    ("export-list", "GET"): MGR,
    ("export-list", "POST"): MGR,
    ("export-detail", "GET"): MGR,
    ("export-cancel", "POST"): MGR,
    ("export-download", "GET"): MGR,
    ("video-import", "POST"): ANN,
    ("video-import", "GET"): VIEW,
    ("import-detail", "GET"): VIEW,
    ("import-cancel", "POST"): ANN,
    ("box-accept-above", "POST"): ANN,
    ("box-propagate", "POST"): ANN,
    ("frame-summary", "GET"): VIEW,
    ("frame-leave", "POST"): ANN,
    ("track-merge", "POST"): ANN,
    ("track-split", "POST"): ANN,
}


def _patterns_by_name(patterns: list[Any], prefix: str = "") -> dict[str, URLPattern]:
    found: dict[str, URLPattern] = {}
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            found.update(_patterns_by_name(entry.url_patterns, namespace))
        elif isinstance(entry, URLPattern) and entry.name:
            found[f"{prefix}{entry.name}"] = entry
    return found


def api_endpoints() -> list[tuple[str, str]]:
    """(name, method) of every view under the ``api`` namespace, from the URL conf."""
    endpoints = []
    for name, entry in _patterns_by_name(get_resolver().url_patterns).items():
        view = getattr(entry.callback, "view_class", None) or getattr(entry.callback, "cls", None)
        if not name.startswith("api:") or view is None:
            continue
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                endpoints.append((name.removeprefix("api:"), method.upper()))
    return endpoints


def test_every_endpoint_has_a_rule():
    endpoints = set(api_endpoints())
    assert endpoints - set(RULES) == set(), "add a role rule for each new endpoint"
    assert set(RULES) - endpoints == set(), "a rule names an endpoint that no longer exists"


@pytest.fixture
def world(settings) -> dict[str, Any]:
    """One project with a member of each role, a clip with frames, a box, a track, a generation and
    an export, and the URL arguments that point at them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    project = cast(Project, ProjectFactory(classes=["square", "disc", "unused"]))
    users = {role: UserFactory() for role in ROLES}
    members = {
        role: cast(Membership, MembershipFactory(project=project, user=users[role], role=role))
        for role in ROLES
    }
    video = cast(Video, VideoFactory(project=project))
    frames = make_frames(video, 3)
    track = Track.objects.create(video=video, label_class=project.classes.get(index=0))
    box = cast(Box, BoxFactory(frame=frames[0], track=track))
    generation = Generation.objects.create(video=video, number=1, status=JobStatus.SUCCEEDED)
    export = ExportJob.objects.create(project=project, format="coco", status=JobStatus.SUCCEEDED)
    label_import = ImportJob.objects.create(video=video, format="coco", status=JobStatus.SUCCEEDED)
    unused = LabelClass.objects.get(project=project, name="unused")
    return {
        "users": users,
        "kwargs": {
            "project_id": project.id,
            "video_id": video.id,
            "index": 0,
            "box_id": box.id,
            "track_id": track.id,
            "generation_id": generation.id,
            "export_id": export.id,
            "import_id": label_import.id,
            "class_id": unused.id,
            "membership_id": members[VIEW].id,
        },
    }


BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("member-detail", "PATCH"): {"role": "annotator"},
    ("class-detail", "PATCH"): {"name": "renamed"},
    ("project-detail", "PATCH"): {"name": "renamed"},
}


def _call(client: APIClient, name: str, method: str, kwargs: dict[str, Any]) -> int:
    converters = _patterns_by_name(get_resolver().url_patterns)[f"api:{name}"].pattern.converters
    url = reverse(f"api:{name}", kwargs={k: kwargs[k] for k in converters})
    body = BODIES.get((name, method), {})
    return getattr(client, method.lower())(url, body, format="json").status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method"), sorted(RULES))
def test_each_role_is_allowed_exactly_what_its_rule_says(world, name, method, role):
    client = APIClient()
    client.force_authenticate(user=world["users"][role])
    status = _call(client, name, method, world["kwargs"])
    rule = RULES[(name, method)]
    allowed = rule == ANY or RANK[role] >= RANK[rule]
    if allowed:
        assert status not in (401, 403, 404) and status < 500, f"{role} {method} {name}: {status}"
    else:
        assert status == 403, f"{role} {method} {name} should be refused: {status}"


def test_an_annotator_cannot_upload_clips_or_export_the_project(world):
    client = APIClient()
    client.force_authenticate(user=world["users"][ANN])
    project_id = world["kwargs"]["project_id"]
    assert client.post(f"/api/projects/{project_id}/videos/", {}).status_code == 403
    response = client.post(f"/api/projects/{project_id}/exports/", {"format": "coco"}, format="json")
    assert response.status_code == 403
    assert "manager" in response.json()["detail"]


def test_a_manager_cannot_name_owners_but_an_owner_can(world):
    kwargs = world["kwargs"]
    url = f"/api/projects/{kwargs['project_id']}/members/{kwargs['membership_id']}/"
    manager, owner = APIClient(), APIClient()
    manager.force_authenticate(user=world["users"][MGR])
    owner.force_authenticate(user=world["users"][OWN])
    assert manager.patch(url, {"role": "owner"}, format="json").status_code == 403
    assert owner.patch(url, {"role": "owner"}, format="json").status_code == 200
    assert Membership.objects.get(id=kwargs["membership_id"]).role == "owner"
    # Now an owner: the manager may no longer change or remove them.
    assert manager.patch(url, {"role": "viewer"}, format="json").status_code == 403
    assert manager.delete(url).status_code == 403
