from django.db import migrations

# The talent search's index (migration 0014) also holds the member's community, as one more
# key beside the bigrams: "#" and its id. A street or a community then asks the index for
# the words and its communities at once, and reads from the table only the candidates of its
# own area. With the bigrams alone, a street (a tenth of a district's members) read every
# candidate of the district and dropped nine in ten: the street's 会计 师 read 18,000 rows at
# 1,000,000 members to count 500, this index hands it 2,200 (`MemberQuerySet.talent_search`).
# The bigrams' function stays: the words are looked up through it.
#
# The function names only PostgreSQL's own functions, the bigrams' body written again: a
# restore (pg_restore) builds the index with an empty search_path, where a call of
# members_bigrams or members_talent_text would not be found. Plpgsql with cost 1000, as
# members_bigrams, for the same reason (migration 0014).
KEYS_INDEX = """
CREATE FUNCTION members_talent_keys(specialty text, title text, industry text, community bigint)
  RETURNS text[]
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
  AS $$ DECLARE
    haystack text := upper(specialty || ' ' || title || ' ' || industry);
  BEGIN
    RETURN ARRAY(
      SELECT DISTINCT substr(haystack, i, 2)
      FROM generate_series(1, char_length(haystack) - 1) AS i
    ) || ('#' || community);
  END $$;
CREATE INDEX member_talent_keys ON members_member
  USING gin (members_talent_keys(specialty, professional_title, industry, community_id));
DROP INDEX IF EXISTS member_talent_bigrams;
"""
NO_KEYS_INDEX = """
CREATE INDEX member_talent_bigrams ON members_member
  USING gin (members_bigrams(members_talent_text(specialty, professional_title, industry)));
DROP INDEX IF EXISTS member_talent_keys;
DROP FUNCTION IF EXISTS members_talent_keys(text, text, text, bigint);
"""


def keys_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(KEYS_INDEX)


def no_keys_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NO_KEYS_INDEX)


class Migration(migrations.Migration):
    dependencies = [("members", "0017_social_positions_to_arrangements")]

    operations = [migrations.RunPython(keys_index, no_keys_index)]
