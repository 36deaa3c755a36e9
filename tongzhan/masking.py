"""Masking (脱敏) of personal numbers for lists, logs and history."""

from .scoping import visible_area_ids


def mask_id_number(number: str) -> str:
    """The first and last characters of a document number stay, the rest is hidden.

    18 characters (ID card, residence permits, permanent residence card): the area code and
    the last four, 140105********123X, the date of birth hidden. Other lengths (permits,
    passports, the 2004 permanent residence card) keep fewer, so that at most about a third
    shows: USA********1234, H******78, 1*****78, E***4.
    """
    if not number:
        return ""
    length = len(number)
    if length == 18:
        head, tail = 6, 4
    elif length >= 13:
        head, tail = 3, 4
    elif length >= 8:
        head, tail = 1, 2
    else:
        head, tail = 1, 1
    return number[:head] + "*" * (length - head - tail) + number[length - tail :]


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; shorter numbers keep only their last four digits."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    if len(phone) <= 4:
        return "*" * len(phone)
    return "*" * (len(phone) - 4) + phone[-4:]


def mask_contact(contact: str) -> str:
    """A relative's contact, free text (a phone here or abroad, WeChat, e-mail): a phone
    number as `mask_phone`; other text keeps its first character and its last two."""
    if not contact:
        return ""
    digits = "".join(c for c in contact if c.isdigit())
    if len(digits) >= 7 and not any(c.isalpha() for c in contact):
        return mask_phone(digits)
    if len(contact) <= 3:
        return "*" * len(contact)
    return contact[0] + "*" * (len(contact) - 3) + contact[-2:]


def mask_name(name: str) -> str:
    """A person's name for those outside her area: the first character stays, 张三丰 → 张**."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def name_seen_by(user, name: str, community_id: int | None) -> str:
    """A member's name as `user` may read it: in full to those who see her community (its
    staff and the levels above), masked to the others, as the lists of members show them."""
    ids = visible_area_ids(user)
    if ids is None or community_id in ids:
        return name
    return mask_name(name)
