"""``GET …/export/?format=csv|jsonl``: the lists' downloads, streamed and bounded (:mod:`peerings.export`),
their renderers and their refusal when the caller's exports are all running."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from peerings import export, export_limits
from peerings.api.schema import errors

__all__ = ["CsvRenderer", "ExportMixin", "ExportRunning", "JsonLinesRenderer"]


class _ExportRenderer(BaseRenderer):
    """Selects ``?format=csv|jsonl``; the export view streams its own body (errors are JSON)."""

    charset = "utf-8"

    def render(self, data: Any, media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return JSONRenderer().render(data)


class CsvRenderer(_ExportRenderer):
    media_type = "text/csv"
    format = "csv"


class JsonLinesRenderer(_ExportRenderer):
    media_type = "application/x-ndjson"
    format = "jsonl"


class ExportRunning(Throttled):
    """Every export slot of the caller is held (:mod:`peerings.export_limits`): 429 with Retry-After."""

    default_code = "export_in_progress"


class ExportMixin:
    """``GET …/export/?format=csv|jsonl``: the list's filters, streamed, never paginated, bounded."""

    export_columns: list[tuple[str, str]]
    export_name: str

    def export_table(self) -> list[tuple[str, str]] | export.Table:
        """The export's columns (a view may build them for its caller)."""
        return self.export_columns

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        if getattr(self, "action", None) == "export" and not force:
            fmt = request.query_params.get("format")
            if fmt is not None and fmt not in export.FORMATS:
                raise ValidationError({"format": ["Choose csv or jsonl."]})
        return super().perform_content_negotiation(request, force=force)

    def handle_exception(self, exc: Exception) -> Response:
        if getattr(self, "action", None) == "export":  # errors in the API's JSON shape
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        summary="Export as CSV or JSON lines (streamed; the list's filters apply)",
        description="At most HISTORY_EXPORT_MAX_ROWS rows (X-Export-Row-Limit; X-Export-Truncated: true "
        "when rows were left out: narrow created_after / created_before). One export per user at a time "
        "(HISTORY_EXPORT_PER_USER): another while it runs answers 429 export_in_progress with Retry-After.",
        parameters=[
            OpenApiParameter("format", str, enum=list(export.FORMATS), description="csv (default) or jsonl"),
            OpenApiParameter(
                export_limits.ROW_LIMIT_HEADER,
                int,
                OpenApiParameter.HEADER,
                response=True,
                description="The most rows an export answers.",
            ),
            OpenApiParameter(
                export_limits.TRUNCATED_HEADER,
                {"type": "string", "enum": ["true", "false"]},
                OpenApiParameter.HEADER,
                response=True,
                description="true when rows past the limit were left out.",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/x-ndjson"): OpenApiTypes.STR,
            **{(code, "application/json"): response for code, response in errors(400).items()},
        },
    )
    @action(detail=False, methods=["get"], renderer_classes=[CsvRenderer, JsonLinesRenderer])
    def export(self, request: Request) -> Any:
        queryset = self.filter_queryset(self.get_queryset())
        fmt = "jsonl" if request.accepted_renderer.format == "jsonl" else "csv"
        try:
            return export.export_response(
                queryset, self.export_table(), fmt=fmt, name=self.export_name, user=request.user
            )
        except export_limits.ExportsBusy as busy:
            raise ExportRunning(busy.retry_after, str(busy)) from None
