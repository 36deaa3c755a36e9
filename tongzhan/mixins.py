"""The one way a view hands a valid form to a service: call it, show its refusal on the form,
tell the user what was done, redirect. Class-based views take `ServiceFormMixin`; function
views call `form_write`, or `action_write` for a button without a form; a step that cannot be
undone is shown once more on `confirm_page` first.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse


def refusal_onto_form(form, error: ValidationError) -> None:
    """A service's refusal on the form: a field's message beside the field when the form shows
    that field, otherwise above the form (a service may speak of fields a form does not have)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def form_write(request, form, write, *, done: str = ""):
    """Run `write()`, a service call for a valid form.

    Returns what the service returned (True when it returns nothing), or None when it refused:
    its messages are then on the form. `done` is told to the user on success.
    """
    try:
        result = write()
    except ValidationError as error:
        refusal_onto_form(form, error)
        return None
    if done:
        messages.success(request, done)
    return True if result is None else result


def action_write(request, write, *, done: str = ""):
    """Run `write()`, a service call behind a button without a form: its refusal is told as
    error messages, success as `done`. Returns what `form_write` returns."""
    try:
        result = write()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return None
    if done:
        messages.success(request, done)
    return True if result is None else result


def confirm_page(
    request, *, heading, rows, happens, button, back_url, form=None, hidden=(), back_posts=False
):
    """The page a step that cannot be undone is confirmed on (`confirm.html`): it posts to the
    page it came from with `confirmed`, and what the step needs. With `back_posts`, going back
    posts `back` and the `hidden` values, to show them again."""
    return render(
        request,
        "confirm.html",
        {
            "heading": heading,
            "rows": rows,
            "happens": happens,
            "button": button,
            "back_url": back_url,
            "action_url": request.path,
            "form": form,
            "hidden": hidden,
            "back_posts": back_posts,
        },
    )


class ServiceFormMixin:
    """For CreateView, UpdateView and FormView: `form_valid` calls `write(form)`, the service.

    A refusal goes onto the form (`refused`) and the form is shown again; success says
    `success_message` and redirects to `success_url_name` with the written object's pk, or to
    what `get_success_url()` says (`self.written` is what the service returned).
    """

    success_message = ""
    success_url_name = ""

    def write(self, form):
        raise NotImplementedError

    def refused(self, form, error: ValidationError) -> None:
        refusal_onto_form(form, error)

    def get_success_url(self) -> str:
        if self.success_url_name:
            return reverse(self.success_url_name, args=[self.written.pk])
        return super().get_success_url()

    def get_success_message(self) -> str:
        return str(self.success_message)

    def form_valid(self, form):
        try:
            self.written = self.write(form)
        except ValidationError as error:
            self.refused(form, error)
            return self.form_invalid(form)
        if message := self.get_success_message():
            messages.success(self.request, message)
        return HttpResponseRedirect(self.get_success_url())
