"""Generations of a clip's micro-model (start, watch, cancel) and the frames it suggests labeling next."""

from __future__ import annotations

from django.http import FileResponse
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.apis.serializers.generations import (
    GenerationSerializer,
    ProjectModelSerializer,
    SuggestionQuerySerializer,
    SuggestionSerializer,
)
from annotate.exchange.names import slugify
from annotate.permissions import request_user, require_annotator, require_manager
from annotate.selectors.generations import generation_get_for_user, generation_list, project_models
from annotate.selectors.projects import project_get_for_user
from annotate.selectors.videos import video_for_user
from annotate.services.generations import generation_cancel, generation_start, generation_start_from
from annotate.services.model_files import MODEL_FILES, generation_model_file
from annotate.services.suggestions import suggestion_list


class GenerationStartSerializer(serializers.Serializer):
    from_generation = serializers.IntegerField(
        required=False, help_text="a trained generation of another clip of the project to start from"
    )


class ProjectModelListApi(APIView):
    @extend_schema(responses=ProjectModelSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        """The project's trained generations, which a new clip can start from."""
        project = project_get_for_user(user=request_user(request), project_id=project_id)
        return Response(ProjectModelSerializer(project_models(project_id=project.id), many=True).data)


class GenerationListApi(APIView):
    @extend_schema(responses=GenerationSerializer(many=True))
    def get(self, request: Request, video_id: int) -> Response:
        """The clip's generations, newest first."""
        video = video_for_user(user=request_user(request), video_id=video_id)
        return Response(GenerationSerializer(generation_list(video=video), many=True).data)

    @extend_schema(
        request=GenerationStartSerializer, responses={201: GenerationSerializer, 200: GenerationSerializer}
    )
    def post(self, request: Request, video_id: int) -> Response:
        """Train the next generation: 201 with the new run, or 200 with the one already queued/running.
        With ``from_generation`` (a clip with no generation yet): generation 0, that other clip's
        trained model pre-labeling this one, which generation 1 then warm-starts from."""
        video = video_for_user(user=request_user(request), video_id=video_id)
        require_annotator(video, user=request_user(request), action="train the clip's model")
        body = GenerationStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        source_id = body.validated_data.get("from_generation")
        if source_id is not None:
            source = generation_get_for_user(user=request_user(request), generation_id=source_id)
            generation = generation_start_from(video=video, source=source, user=request_user(request))
            created = True
        else:
            generation, created = generation_start(video=video, user=request_user(request))
        generation = generation_get_for_user(user=request_user(request), generation_id=generation.id)
        return Response(
            GenerationSerializer(generation).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class GenerationDetailApi(APIView):
    @extend_schema(responses=GenerationSerializer)
    def get(self, request: Request, generation_id: int) -> Response:
        generation = generation_get_for_user(user=request_user(request), generation_id=generation_id)
        return Response(GenerationSerializer(generation).data)


class GenerationCancelApi(APIView):
    @extend_schema(request=None, responses=GenerationSerializer)
    def post(self, request: Request, generation_id: int) -> Response:
        """Cancel: a queued run at once, a running one at its next step; 409 when it already ended."""
        generation = generation_get_for_user(user=request_user(request), generation_id=generation_id)
        require_annotator(generation, user=request_user(request), action="cancel training")
        generation_cancel(generation=generation)
        generation = generation_get_for_user(user=request_user(request), generation_id=generation_id)
        return Response(GenerationSerializer(generation).data)


class ModelFileQuerySerializer(serializers.Serializer):
    file = serializers.ChoiceField(
        choices=MODEL_FILES,
        default="onnx",
        help_text="checkpoint (the .pt the engine loads), onnx (float32), onnx_int8 (8-bit weights)",
    )


class GenerationModelApi(APIView):
    @extend_schema(
        parameters=[ModelFileQuerySerializer], responses={(200, "application/octet-stream"): bytes}
    )
    def get(self, request: Request, generation_id: int) -> FileResponse:
        """Download the generation's model; the ONNX files are written on the first request (seconds)
        and carry the class names, the input size and the clip and generation in their metadata."""
        query = ModelFileQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        generation = generation_get_for_user(user=request_user(request), generation_id=generation_id)
        require_manager(generation, user=request_user(request), action="download the clip's model")
        file = query.validated_data["file"]
        file_path = generation_model_file(generation=generation, file=file)
        suffix = {"checkpoint": ".pt", "onnx": ".onnx", "onnx_int8": ".int8.onnx"}[file]
        name = f"{slugify(generation.video.name)[:60] or 'clip'}-generation{generation.number}{suffix}"
        return FileResponse(
            file_path.open("rb"), as_attachment=True, filename=name, content_type="application/octet-stream"
        )


class SuggestionListApi(APIView):
    @extend_schema(parameters=[SuggestionQuerySerializer], responses=SuggestionSerializer(many=True))
    def get(self, request: Request, video_id: int) -> Response:
        """Frames to label next, best first, never one already labeled."""
        query = SuggestionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        video = video_for_user(user=request_user(request), video_id=video_id)
        suggestions = suggestion_list(video=video, count=query.validated_data.get("count"))
        return Response(SuggestionSerializer(suggestions, many=True).data)


urlpatterns = [
    path("videos/<int:video_id>/generations/", GenerationListApi.as_view(), name="generation-list"),
    path("projects/<int:project_id>/models/", ProjectModelListApi.as_view(), name="project-models"),
    path("generations/<int:generation_id>/", GenerationDetailApi.as_view(), name="generation-detail"),
    path("generations/<int:generation_id>/cancel/", GenerationCancelApi.as_view(), name="generation-cancel"),
    path("generations/<int:generation_id>/model/", GenerationModelApi.as_view(), name="generation-model"),
    path("videos/<int:video_id>/suggestions/", SuggestionListApi.as_view(), name="suggestion-list"),
]
