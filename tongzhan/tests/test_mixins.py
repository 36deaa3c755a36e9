"""The one way from a form to a service: a refusal lands on the form, beside its field when the
form shows it."""

from django import forms
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from tongzhan.mixins import action_write, form_write


class NameForm(forms.Form):
    name = forms.CharField()


def _request():
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_a_refusal_shows_by_its_field_or_above_the_form():
    form = NameForm({"name": "张三"})
    assert form.is_valid()

    def refuse():
        raise ValidationError({"name": "重名", "political_status": "需要民主党派"})

    assert form_write(_request(), form, refuse) is None
    assert form.errors["name"] == ["重名"]
    # The form has no such field: the message is shown above it instead of failing.
    assert form.non_field_errors() == ["需要民主党派"]


def test_success_returns_what_was_written_and_says_so():
    request = _request()
    form = NameForm({"name": "张三"})
    assert form.is_valid()
    assert form_write(request, form, lambda: "written", done="已保存") == "written"
    assert form_write(request, form, lambda: None) is True
    assert [str(m) for m in request._messages] == ["已保存"]


def test_a_refused_action_is_told_as_errors():
    request = _request()

    def refuse():
        raise ValidationError(["考核已定稿", "不能再修改"])

    assert action_write(request, refuse, done="已完成") is None
    assert [(m.level_tag, str(m)) for m in request._messages] == [
        ("error", "考核已定稿"),
        ("error", "不能再修改"),
    ]
