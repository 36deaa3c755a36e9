"""Rules that span a member's categories, shared by the member form and the roster import."""

from django.utils.translation import gettext as _

from .models import Category, PoliticalStatus


def apply_category_rules(
    *, slugs: list[str], political_status: PoliticalStatus | None, ethnicity
) -> tuple[list[str], dict[str, str]]:
    """The member's category slugs after the rules, and the reasons to refuse, by field.

    - A democratic party member is in the 民主党派成员 category by definition
      (统一战线工作条例 art. 5); rosters often leave it out, so it is added.
    - The 民主党派成员 category needs a party as political status.
    - The 少数民族人士 category needs a minority ethnic group.
    """
    slugs = list(dict.fromkeys(slugs))
    errors = {}
    if political_status is not None:
        if "democratic_party" in slugs and not political_status.is_democratic_party:
            errors["political_status"] = _(
                "Members of the democratic parties category have a party as status."
            )
        if political_status.is_democratic_party and "democratic_party" not in slugs:
            slugs.append("democratic_party")
    if ethnicity is not None and ethnicity.is_han and "ethnic_minority" in slugs:
        errors["ethnicity"] = _("The ethnic minority category needs a minority group.")
    return slugs, errors


def categories_by_slug() -> dict[str, Category]:
    return {category.slug: category for category in Category.objects.all()}
