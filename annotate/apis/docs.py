"""The OpenAPI schema and a self-hosted reference page.

drf-spectacular's Swagger UI and Redoc views load their JavaScript from a CDN, which an offline
installation cannot reach; this page renders the same schema as plain server-side HTML instead.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import path
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.views import APIView

_METHODS = ("get", "post", "put", "patch", "delete")
_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "h2{margin-top:2rem;border-bottom:1px solid #ddd}.op{margin:.6rem 0;padding:.4rem .6rem;"
    "border-left:4px solid #4e79a7;background:#f6f8fa}.m{font-weight:700;text-transform:uppercase;"
    "display:inline-block;width:4.5rem}code{font-size:13px}.small{color:#555;font-size:13px}"
)


def _ref_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"[{_ref_name(schema.get('items'))}]"
    return str(schema.get("type", ""))


def _operation(url: str, method: str, op: dict[str, Any]) -> SafeString:
    params = format_html_join(
        ", ", "<code>{}</code> ({})", ((p["name"], p["in"]) for p in op.get("parameters", []))
    )
    bodies = op.get("requestBody", {}).get("content", {})
    body = format_html_join(
        ", ", "<code>{}</code> {}", ((ctype, _ref_name(c.get("schema"))) for ctype, c in bodies.items())
    )
    responses = format_html_join(
        ", ",
        "{} <code>{}</code>",
        (
            (code, " ".join(_ref_name(c.get("schema")) for c in r.get("content", {}).values()))
            for code, r in op.get("responses", {}).items()
        ),
    )
    return format_html(
        '<div class="op"><span class="m">{}</span><code>{}</code><div>{}</div>'
        '<div class="small">parameters: {} &middot; body: {} &middot; responses: {}</div></div>',
        method,
        url,
        op.get("description", ""),
        params or "none",
        body or "none",
        responses,
    )


def _component(name: str, schema: dict[str, Any]) -> SafeString:
    required = set(schema.get("required", []))
    fields = format_html_join(
        ", ",
        "<code>{}{}</code>: {}",
        (
            (field, "" if field in required else "?", _ref_name(spec) or spec.get("enum", ""))
            for field, spec in schema.get("properties", {}).items()
        ),
    )
    return format_html('<div class="op"><b>{}</b><div class="small">{}</div></div>', name, fields)


def render_reference(schema: dict[str, Any]) -> str:
    info = schema.get("info", {})
    ops = [
        _operation(url, method, item[method])
        for url, item in schema.get("paths", {}).items()
        for method in _METHODS
        if method in item
    ]
    components = [_component(n, s) for n, s in schema.get("components", {}).get("schemas", {}).items()]
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(info.get('title', 'API'))}"
        f"</title><style>{_STYLE}</style></head><body><h1>{escape(info.get('title', 'API'))} "
        f"{escape(info.get('version', ''))}</h1><p>{escape(info.get('description', ''))} "
        "Machine-readable: <a href='../schema/'>OpenAPI schema</a>.</p>"
        f"<h2>Operations</h2>{mark_safe(''.join(ops))}"  # noqa: S308 - every part built by format_html
        f"<h2>Schemas</h2>{mark_safe(''.join(components))}</body></html>"  # noqa: S308
    )


class ApiReferenceView(APIView):
    """GET /api/docs/: every operation and schema of the API as one static HTML page.

    A page people open in a browser: signed out, they are sent to the login page (and back here),
    not shown a raw 403."""

    permission_classes: list[type] = []

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        schema = SchemaGenerator().get_schema(request=request, public=True)
        response = HttpResponse(render_reference(schema), content_type="text/html; charset=utf-8")
        # The page's one inline <style>, allowed by its hash and nothing else inline.
        digest = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
        response["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )
        return response


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiReferenceView.as_view(), name="docs"),
]
