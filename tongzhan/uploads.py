"""What an uploaded file may be: a photo (JPEG, PNG, WebP) or a PDF, recognised by its bytes.

Activity files, assessment evidence and members' ID photos are checked here alike.

The name and the browser's content type are the uploader's word; the first bytes are the
file's. A program renamed to .jpg starts with MZ or ELF, not with a JPEG marker, and is
refused with the rest.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image

from .text import plain_name


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


def _size_checked(upload, limit: int) -> None:
    if not upload.size:
        raise UploadRefused(_("%(name)s is empty.") % {"name": upload.name})
    if upload.size > limit:
        raise UploadRefused(
            _("%(name)s is larger than %(limit)s MB.")
            % {"name": upload.name, "limit": limit // (1024 * 1024)}
        )


def _sniffed(upload) -> FileType | None:
    """The type the first bytes say, checked against the name's extension."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for matches, file_type in SIGNATURES:
        if matches(head):
            if not upload.name.lower().endswith(file_type.extensions):
                raise UploadRefused(
                    _("%(name)s is not what its name says: rename it or save it again.")
                    % {"name": upload.name}
                )
            return file_type
    return None


def upload_name(upload, default: str = "file") -> str:
    """The name an upload is kept and downloaded under: the uploader's, without folders and
    without the characters that show nothing. A direction override (U+202E) would otherwise
    show 文件\u202efdp.exe as 文件exe.pdf in the download's name."""
    name = plain_name(str(upload.name or "").replace("\\", "/").rsplit("/", 1)[-1])
    return name[:200] or default


def check_upload(upload) -> FileType:
    """The type of an uploaded file, or UploadRefused saying why it is not accepted."""
    _size_checked(upload, settings.ACTIVITY_FILE_MAX_BYTES)
    file_type = _sniffed(upload)
    if file_type is None:
        raise UploadRefused(
            _("%(name)s is not a photo (JPEG, PNG, WebP) or a PDF document.")
            % {"name": upload.name}
        )
    return file_type


PHOTO_TYPES = ("image/jpeg", "image/png")
PHOTO_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}  # as Pillow names them


def check_photo(upload) -> FileType:
    """An ID photo (证件照): a JPEG or PNG no larger than MEMBER_PHOTO_MAX_BYTES, by its bytes.

    What the printed form can draw; a PDF or WebP is refused with the rest.
    """
    _size_checked(upload, settings.MEMBER_PHOTO_MAX_BYTES)
    file_type = _sniffed(upload)
    if file_type is None or file_type.content_type not in PHOTO_TYPES:
        raise UploadRefused(_("%(name)s is not a JPEG or PNG photo.") % {"name": upload.name})
    # The whole file, not only its first bytes, is a picture: a few marker bytes before an
    # HTML page or a script are not. Its size is read before it is drawn: a small file can
    # hold a huge picture, which every printed form would then decode (9000 × 9000 pixels
    # in 250 KB take WeasyPrint 5 seconds and 700 MB each).
    try:
        with Image.open(upload) as image:
            width, height = image.size
            if image.format != PHOTO_FORMATS[file_type.content_type]:
                raise OSError(image.format)
            if width * height > settings.MEMBER_PHOTO_MAX_PIXELS:
                raise UploadRefused(
                    _("%(name)s is %(width)s × %(height)s pixels: an ID photo has at most "
                      "%(most)s pixels (for example 1200 × 1600); crop or shrink it.")
                    % {"name": upload.name, "width": width, "height": height,
                       "most": settings.MEMBER_PHOTO_MAX_PIXELS}
                )  # fmt: skip
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRefused(
            _("%(name)s is not a JPEG or PNG photo.") % {"name": upload.name}
        ) from None
    finally:
        upload.seek(0)
    return file_type
