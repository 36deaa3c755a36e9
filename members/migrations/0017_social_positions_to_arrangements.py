"""The text of 社会职务/政治安排 read into political arrangements (issue 18).

Each member's `social_positions` is read by `members.positions.parse_positions`: what it
reads clearly becomes rows (in office, or ended for 原…/曾任…, without dates, which the text
never gave), and what it cannot read stays in the field, now 其他社会职务. The member's history
gets one line saying what moved, so the change shows on her page; her version rises as for
any write of her fields.

Backwards, the rows are written back in front of the text, the earlier ones as 原… (cut to
the field's 200 characters), and the lines this migration wrote are removed; the rows stay
(with the dates and reasons added since) until 0016 is reversed too, and running this
migration again does not record them twice.
"""

from django.db import migrations
from django.db.models import F

from members.positions import arrangement_text, parse_positions

SOURCE = "政治安排迁移（原“社会职务/政治安排”文本）"
FIELD_CHARS = 200
STATE_WORDS = {"in_office": "在任", "ended": "届满"}


def read_positions(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    Arrangement = apps.get_model("members", "PoliticalArrangement")
    MemberChange = apps.get_model("members", "MemberChange")
    members = Member.objects.exclude(social_positions="").only("pk", "social_positions")
    # Seats recorded already (this migration run again after its reverse, which keeps the
    # rows): read from the text again, they are not recorded twice.
    held = {
        (row.member_id, row.body, row.level, row.organisation, row.post, row.state == "in_office")
        for row in Arrangement.objects.all()
    }
    rows, lines, changed = [], [], []
    for member in members.iterator(chunk_size=2000):
        parsed = parse_positions(member.social_positions)
        if not parsed.arrangements:
            continue
        added = [
            item
            for item in parsed.arrangements
            if (member.pk, *item.key, item.state == "in_office") not in held
        ]
        rows += [
            Arrangement(
                member_id=member.pk,
                body=item.body,
                organisation=item.organisation,
                level=item.level,
                post=item.post,
                session=item.session,
                state=item.state,
            )
            for item in added
        ]
        old = member.social_positions
        changes = [{"field": "social_positions", "old": old, "new": parsed.rest}]
        if added:
            summary = "、".join(f"{item.text}（{STATE_WORDS[item.state]}）" for item in added)
            changes.append({"field": "arrangements", "old": "", "new": summary[:200]})
        lines.append(
            MemberChange(
                member_id=member.pk, actor=None, action="update", source=SOURCE, changes=changes
            )
        )
        changed.append((member.pk, parsed.rest))
    Arrangement.objects.bulk_create(rows, batch_size=2000)
    MemberChange.objects.bulk_create(lines, batch_size=2000)
    for pk, rest in changed:
        Member.objects.filter(pk=pk).update(social_positions=rest, version=F("version") + 1)


def write_positions_back(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    Arrangement = apps.get_model("members", "PoliticalArrangement")
    MemberChange = apps.get_model("members", "MemberChange")
    texts: dict[int, list[str]] = {}
    rows = Arrangement.objects.order_by("member_id", "-state", "id")  # in office first
    for row in rows.iterator(chunk_size=2000):
        text = arrangement_text(row.body, row.level, row.post, row.organisation)
        # An earlier one as rosters write it, which this migration reads back as ended.
        texts.setdefault(row.member_id, []).append(
            text if row.state == "in_office" else f"原{text}"
        )
    for member in Member.objects.filter(pk__in=list(texts)).only("pk", "social_positions"):
        other = [member.social_positions] if member.social_positions else []
        words = [*texts[member.pk], *other]
        text = "、".join(dict.fromkeys(words))
        if len(text) > FIELD_CHARS:
            text = text[: FIELD_CHARS - 1] + "…"
        Member.objects.filter(pk=member.pk).update(social_positions=text)
    MemberChange.objects.filter(source=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0016_political_arrangements_and_duty_records"),
    ]

    operations = [migrations.RunPython(read_positions, write_positions_back)]
