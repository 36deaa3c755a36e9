"""Text that names a record, made plain before it is checked and stored."""

import unicodedata


def plain_name(value) -> str:
    """`value` without the characters that show nothing (Unicode's format characters: zero-width
    spaces and joiners, the byte-order mark, direction overrides), spaces trimmed.

    A name of only those is then empty, and refused as no name; one that differs from another
    only by them is the same name, which a constraint of one name per area refuses."""
    return "".join(char for char in str(value or "") if unicodedata.category(char) != "Cf").strip()
