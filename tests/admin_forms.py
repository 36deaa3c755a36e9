"""Posting an admin page as a browser would: the values its form shows, with changes."""

from html.parser import HTMLParser


class _FormValues(HTMLParser):
    """The successful controls of the admin's main form (`<form id="..._form">`)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 inside the main form
        self.values: list[tuple[str, str]] = []
        self.select: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if self.depth or (attrs.get("id") or "").endswith("_form"):
                self.depth += 1
            return
        if not self.depth:
            return
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.values.append((name, attrs.get("value", "")))
        elif tag == "select" and name and "__prefix__" not in name and "disabled" not in attrs:
            self.select = name
        elif tag == "option" and self.select and "selected" in attrs:
            self.values.append((self.select, attrs.get("value", "")))
        elif tag == "textarea" and name and "__prefix__" not in name:
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag):
        if tag == "form" and self.depth:
            self.depth -= 1
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.values.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text += data


def admin_form_data(response, **changes) -> dict:
    """The POST data of the admin page in `response`, with `changes` applied (a list for a
    field of several values)."""
    parser = _FormValues()
    parser.feed(response.content.decode())
    lists: dict[str, list[str]] = {}
    for name, value in parser.values:
        lists.setdefault(name, []).append(value)
    data: dict = {name: values[0] if len(values) == 1 else values for name, values in lists.items()}
    data.pop("csrfmiddlewaretoken", None)
    data.update(changes)
    return data
