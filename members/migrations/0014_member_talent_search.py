from django.db import migrations

# The talent search on PostgreSQL (`MemberQuerySet.talent_search`): a GIN index on the
# two-character pieces (bigrams) of one upper-cased text of expertise, professional title and
# industry. Not trigrams as the study library's search: Chinese words of two characters
# (法律, 会计, 教师) are the usual query here and give pg_trgm no trigram, so every row would
# be read. An array of bigrams needs no extension (GIN's own array_ops). The bigram function
# is plpgsql with cost 1000, as `liaison_material_haystack` is and for the same reason: the
# planner otherwise thinks recomputing it on every row cheap and never uses the index.
SEARCH_INDEX = """
CREATE FUNCTION members_talent_text(specialty text, title text, industry text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT upper(specialty || ' ' || title || ' ' || industry) $$;
CREATE FUNCTION members_bigrams(haystack text) RETURNS text[]
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
  AS $$ BEGIN
    RETURN ARRAY(
      SELECT DISTINCT substr(haystack, i, 2)
      FROM generate_series(1, char_length(haystack) - 1) AS i
    );
  END $$;
CREATE INDEX member_talent_bigrams ON members_member
  USING gin (members_bigrams(members_talent_text(specialty, professional_title, industry)));
"""
NO_SEARCH_INDEX = """
DROP INDEX IF EXISTS member_talent_bigrams;
DROP FUNCTION IF EXISTS members_bigrams(text);
DROP FUNCTION IF EXISTS members_talent_text(text, text, text);
"""


def search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEARCH_INDEX)


def no_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(NO_SEARCH_INDEX)


class Migration(migrations.Migration):
    dependencies = [("members", "0013_member_duplicates_and_merge")]

    operations = [migrations.RunPython(search_index, no_search_index)]
