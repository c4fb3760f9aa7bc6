"""Projects, label classes and members."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from annotate.models import Role
from annotate.selectors.projects import project_base_weights


class LabelClassSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    color = serializers.CharField(read_only=True)
    index = serializers.IntegerField(read_only=True)


class LabelClassUsageSerializer(LabelClassSerializer):
    box_count = serializers.IntegerField(read_only=True, help_text="boxes that deleting the class deletes")


class ClassOrderSerializer(serializers.Serializer):
    classes = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class ClassDeleteSerializer(serializers.Serializer):
    delete_boxes = serializers.BooleanField(required=False, default=False)


class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    base_weights = serializers.CharField(read_only=True)
    auto_train = serializers.BooleanField(read_only=True)
    auto_train_after_frames = serializers.IntegerField(read_only=True)
    train_from_scratch = serializers.BooleanField(read_only=True)
    train_time_budget = serializers.IntegerField(read_only=True, allow_null=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)
    classes = LabelClassSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ProjectSettingsSerializer(ProjectSerializer):
    """The project with what its settings page shows about the base weights."""

    base_weights_info = serializers.SerializerMethodField()

    def get_base_weights_info(self, project: Any) -> dict[str, Any]:
        return project_base_weights(project=project)


class ClassInputSerializer(serializers.Serializer):
    # Stored exactly as given (no trimming): names are data, the UI renders them as text.
    name = serializers.CharField(max_length=100, trim_whitespace=False)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


class ClassUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, trim_whitespace=False, required=False)
    color = serializers.RegexField(r"^#[0-9a-fA-F]{6}$", required=False)


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, trim_whitespace=False)
    classes = ClassInputSerializer(many=True, allow_empty=False)
    base_weights = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, trim_whitespace=False, required=False)
    base_weights = serializers.CharField(max_length=500, required=False, allow_blank=True)
    auto_train = serializers.BooleanField(required=False)
    auto_train_after_frames = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False)
    train_from_scratch = serializers.BooleanField(required=False)
    train_time_budget = serializers.IntegerField(
        min_value=5, max_value=86_400, required=False, allow_null=True
    )


class MemberUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    user = MemberUserSerializer(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class MembershipCreateSerializer(serializers.Serializer):
    # One message for an unknown, an inactive or a malformed name; adding members is throttled per
    # manager (annotate.apis.members), so a manager cannot sweep the user list (docs/deployment.md).
    username = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        source="user",
        error_messages={
            "does_not_exist": "No account can be added under that username: check the spelling, or ask an "
            "administrator to create the account.",
            "invalid": "No account can be added under that username: check the spelling, or ask an "
            "administrator to create the account.",
        },
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
