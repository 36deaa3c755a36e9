"""Files attached to a record (附件): a photo or PDF of an activity, a notice, a task, a report
or a study material, kept under a random name and served only through a view that checks scope.

Each app's file model subclasses `Attachment` with its own foreign key to what it belongs to
and names the folder its files are kept in. The app's services check the uploads
(`tongzhan.uploads`), store them with `attachment_store` inside
`files_kept_only_if_committed`, and its views answer with `attachment_response` once they
have found the owner in the user's scope.
"""

import contextlib
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _

from .models import User
from .uploads import UploadRefused, check_upload, upload_name

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def attachment_path(instance, filename: str) -> str:
    """`<upload_folder>/<owner id>/<random hex><extension>`, as each subclass names them.

    A random name: the uploaded one may say more than it should, and is kept in `name`.
    """
    owner_id = instance.serializable_value(instance.owner_field)
    return f"{instance.upload_folder}/{owner_id}/{uuid.uuid4().hex}{instance.extension}"


class Attachment(models.Model):
    """A photo or PDF belonging to a record; abstract, one table per kind of record.

    A subclass adds the foreign key to its owner and says where its files are kept:
    `upload_folder` (under MEDIA_ROOT) and `owner_field`, whose id names the folder within.
    """

    upload_folder: str
    owner_field: str

    class Kind(models.TextChoices):
        IMAGE = "image", _("Photo")
        PDF = "pdf", _("PDF document")

    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        User, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.content_type, ".pdf")


def uploads_checked(uploads) -> list:
    """Each upload with its type by its bytes; the first refused one refuses them all, by its
    name, as an error of the form's `files`."""
    checked = []
    for upload in uploads:
        try:
            checked.append((upload, check_upload(upload)))
        except UploadRefused as refused:
            raise ValidationError({"files": refused.message}) from None
    return checked


@contextlib.contextmanager
def files_kept_only_if_committed():
    """The stored files of a write (a list `attachment_store` adds to), deleted again if it
    fails.

    Wraps the write's transaction: when it rolls back, no row points at them any more.
    """
    stored = []
    try:
        yield stored
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise


def attachment_store(model, upload, file_type, *, actor, stored: list, **owner) -> Attachment:
    """Store an upload `uploads_checked` passed, with its type, as a `model` attachment of
    `owner` (its foreign keys by name: `activity=activity`), noting the file in `stored`."""
    attached = model(
        **owner,
        name=upload_name(upload),
        kind=file_type.kind,
        content_type=file_type.content_type,
        size=upload.size,
        uploaded_by=actor,
    )
    attached.file.save("upload", upload, save=False)
    stored.append((attached.file.storage, attached.file.name))
    attached.save()
    return attached


def attachment_response(attached: Attachment) -> FileResponse:
    """The file of an attachment whose owner the view found in the user's scope: a photo shown
    in the page, a PDF downloaded; only the user's browser may keep it, for an hour."""
    response = FileResponse(
        attached.file.open("rb"),
        content_type=attached.content_type,
        as_attachment=attached.kind != Attachment.Kind.IMAGE,
        filename=attached.name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
