"""The upload size limit, enforced while the request body streams in rather than after it is on disk.

``UploadLimitHandler`` comes first in ``FILE_UPLOAD_HANDLERS``. It refuses a request whose
Content-Length already says it is too big before a byte of the body is read, and otherwise counts
the bytes of each file as they arrive and stops the upload on the first chunk over the limit, before
Django's own handlers write that chunk to a temporary file (whose partial file it then removes).

A refusal is a ``MultiPartParserError``: plain Django answers 400 and DRF's ``MultiPartParser`` a 400
``ParseError``. ``UploadParser`` turns it into a 413 carrying just the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParserError
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser

from annotate.errors import ServiceError

# Room in a request body for the part headers, boundaries and form fields around the file.
_ENVELOPE_BYTES = 64 * 1024


def limit_text(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.0f} MB"
    return f"{limit} bytes"


class UploadTooLarge(MultiPartParserError):
    """The request body or one of its files is over ANNOTATE_MAX_UPLOAD_BYTES."""


class UploadTooLargeError(ServiceError):
    """An upload refused for its size (HTTP 413)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "too_large"


class UploadLimitHandler(FileUploadHandler):
    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        form_fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        if content_length > settings.ANNOTATE_MAX_UPLOAD_BYTES + form_fields + _ENVELOPE_BYTES:
            self._refuse()  # nothing is read or written yet
        return None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if self.content_length is not None and self.content_length > settings.ANNOTATE_MAX_UPLOAD_BYTES:
            self._refuse()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.ANNOTATE_MAX_UPLOAD_BYTES:
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file

    def _refuse(self) -> None:
        # Django's parser closes only the files it has finished; the one in progress is removed here.
        request = self.request
        if request is not None:
            for handler in request.upload_handlers:
                if handler is not self:
                    handler.upload_interrupted()
        raise UploadTooLarge(
            f"The file is larger than the {limit_text(settings.ANNOTATE_MAX_UPLOAD_BYTES)} upload limit."
        )


class UploadParser(MultiPartParser):
    """DRF's multipart parser, answering 413 with the limit's message when an upload is too large."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> DataAndFiles:
        try:
            return super().parse(stream, media_type, parser_context)
        except ParseError as exc:
            cause = exc.__context__
            if isinstance(cause, UploadTooLarge):
                raise UploadTooLargeError(str(cause), field="file") from cause
            raise
