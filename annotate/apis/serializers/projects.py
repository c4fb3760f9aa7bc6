"""Projects, label classes and members."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from annotate.models import Role


class LabelClassSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    color = serializers.CharField(read_only=True)
    index = serializers.IntegerField(read_only=True)


class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    base_weights = serializers.CharField(read_only=True)
    auto_train = serializers.BooleanField(read_only=True)
    auto_train_after_frames = serializers.IntegerField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)
    classes = LabelClassSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


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
