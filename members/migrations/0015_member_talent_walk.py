from django.db import migrations

# The talent search's second path (`MemberQuerySet.talent_in_name_order`): when a word matches
# more members than the search ranks (`TALENT_RANKED_AT_MOST`), its pages are read in name
# order along this index, which holds what the search filters on, so a page reads only the
# index, and only until it has its rows: a word held by one member in twenty gives the first
# 25 after about 500 entries, however many match. Partial: only registered members of record
# with something to search (a member in five in the demo), the rows the search can return.
WALK_INDEX = """
CREATE INDEX member_talent_walk ON members_member (name, id)
  INCLUDE (community_id, education, specialty, professional_title, industry)
  WHERE status = 'active' AND merged_into_id IS NULL
    AND (specialty > '' OR professional_title > '' OR industry > '');
"""
NO_WALK_INDEX = "DROP INDEX IF EXISTS member_talent_walk;"


def walk_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(WALK_INDEX)


def no_walk_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NO_WALK_INDEX)


class Migration(migrations.Migration):
    dependencies = [("members", "0014_member_talent_search")]

    operations = [migrations.RunPython(walk_index, no_walk_index)]
