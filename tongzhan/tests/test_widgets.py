from html.parser import HTMLParser

import pytest
from django import forms

from tongzhan.widgets import CompactSelect

CHOICES = [("", "---"), ("a", "A & <b>"), ("组", [("x", "X"), ("y", "Y")])]


class Parts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_starttag(self, tag, attrs):
        self.parts.append((tag, sorted(attrs, key=lambda pair: pair[0])))

    def handle_data(self, data):
        if data.strip():
            self.parts.append(data)


def parse(html):
    parser = Parts()
    parser.feed(html)
    return parser.parts


@pytest.mark.parametrize("value", ["a", "x", None, ["a"]])
def test_same_markup_as_djangos_select(value):
    attrs = {"id": "id_f", "class": "c"}
    expected = forms.Select(choices=CHOICES).render("f", value, attrs)
    assert parse(CompactSelect(choices=CHOICES).render("f", value, attrs)) == parse(expected)


def test_labels_are_escaped():
    html = CompactSelect(choices=CHOICES).render("f", None)
    assert "A &amp; &lt;b&gt;" in html
