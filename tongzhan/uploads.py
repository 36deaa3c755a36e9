"""What an uploaded file may be: a photo (JPEG, PNG, WebP) or a PDF, recognised by its bytes.

Activity files and assessment evidence are checked here alike.

The name and the browser's content type are the uploader's word; the first bytes are the
file's. A program renamed to .jpg starts with MZ or ELF, not with a JPEG marker, and is
refused with the rest.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class FileType:
    kind: str  # "image" or "pdf", as activity files store it
    content_type: str
    extensions: tuple[str, ...]


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


SIGNATURES = (
    (
        lambda head: head.startswith(b"\xff\xd8\xff"),
        FileType("image", "image/jpeg", (".jpg", ".jpeg")),
    ),
    (lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"), FileType("image", "image/png", (".png",))),
    (_webp, FileType("image", "image/webp", (".webp",))),
    (lambda head: head.startswith(b"%PDF-"), FileType("pdf", "application/pdf", (".pdf",))),
)


class UploadRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_upload(upload) -> FileType:
    """The type of an uploaded file, or UploadRefused saying why it is not accepted."""
    limit = settings.ACTIVITY_FILE_MAX_BYTES
    if not upload.size:
        raise UploadRefused(_("%(name)s is empty.") % {"name": upload.name})
    if upload.size > limit:
        raise UploadRefused(
            _("%(name)s is larger than %(limit)s MB.")
            % {"name": upload.name, "limit": limit // (1024 * 1024)}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    name = upload.name.lower()
    for matches, file_type in SIGNATURES:
        if matches(head):
            if not name.endswith(file_type.extensions):
                raise UploadRefused(
                    _("%(name)s is not what its name says: rename it or save it again.")
                    % {"name": upload.name}
                )
            return file_type
    raise UploadRefused(
        _("%(name)s is not a photo (JPEG, PNG, WebP) or a PDF document.") % {"name": upload.name}
    )
