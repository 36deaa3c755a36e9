"""Test data for members: valid ID numbers and members created through the service."""

import datetime
import itertools

import factory
from django.utils import timezone

from members.models import Category, Ethnicity, Member, PoliticalStatus
from members.services import member_create
from tongzhan.idnumber import check_character

_serials = itertools.count(1)
# Birth dates of generated numbers run over this many days from 1960, then start again with
# the next sequence number (a whole suite generates tens of thousands).
BIRTH_DAYS = 18_000


def id_number_for(
    birth: datetime.date | None = None, *, sex: str = "M", area: str = "140106"
) -> str:
    """A valid 18-character number; without a birth date, different on every call (for the
    first 900,000 calls) and born between 1960 and 2009, however long the test run."""
    serial = next(_serials)
    # Sequence numbers 50–99 for generated birth dates, 00–49 for given ones: the two never
    # make the same number.
    if birth is None:
        birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=serial % BIRTH_DAYS)
        number = 50 + (serial // BIRTH_DAYS) % 50
    else:
        number = serial % 50  # a birth date given for several: told apart by the sequence
    sequence = f"{number:02d}" + ("1" if sex == "M" else "2")
    first17 = f"{area}{birth:%Y%m%d}{sequence}"
    return first17 + check_character(first17)


class MemberFactory(factory.Factory):
    """Builds the data dict and registers the member through `member_create`."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"测试{n}号")
    id_number = factory.LazyFunction(id_number_for)
    ethnicity = factory.LazyFunction(lambda: Ethnicity.objects.get(code="01"))
    political_status = factory.LazyFunction(lambda: PoliticalStatus.objects.get(code="13"))
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    categories = factory.LazyFunction(lambda: [Category.objects.get(slug="intellectual")])
    community = None
    # Told what is kept and why (告知), as every registration records.
    informed_how = Member.InformedHow.LETTER
    informed_on = factory.LazyFunction(timezone.localdate)

    @classmethod
    def _create(cls, model_class, *args, actor=None, **data) -> Member:
        return member_create(actor=actor, data=data, source="测试")
