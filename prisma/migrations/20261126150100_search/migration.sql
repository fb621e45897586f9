-- Hand-written (Prisma cannot express text search): full-text search over announcements.
--
-- unaccent is a trusted extension (PostgreSQL 13+), so a database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS "unaccent";

-- Two configurations, each the built-in one with unaccent in front of its stemmer: "økonomi", "okonomi" and
-- "Økonomien" meet in one lexeme (this unaccent maps ø→o, æ→ae, å→a), so readers without Norwegian letters on their
-- keyboard still find what they look for. unaccent is a filtering dictionary: it passes its output on to the stemmer.
CREATE TEXT SEARCH CONFIGURATION "mk_norwegian" (COPY = pg_catalog.norwegian);
ALTER TEXT SEARCH CONFIGURATION "mk_norwegian"
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, norwegian_stem;

CREATE TEXT SEARCH CONFIGURATION "mk_english" (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION "mk_english"
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

-- Expression indexes rather than stored tsvector columns: the document is derived entirely from title and body, so it
-- can never go stale, and Prisma (which cannot model tsvector) sees no extra column. Title weighs A, body B, so a
-- title match ranks above a body match. Queries must repeat these expressions exactly (src/db/search-sql.ts) for
-- the planner to use the indexes.
CREATE INDEX "Announcement_search_nb_idx" ON "Announcement" USING GIN ((
    setweight(to_tsvector('mk_norwegian'::regconfig, "title"), 'A') ||
    setweight(to_tsvector('mk_norwegian'::regconfig, "body"), 'B')
));

CREATE INDEX "Announcement_search_en_idx" ON "Announcement" USING GIN ((
    setweight(to_tsvector('mk_english'::regconfig, "title"), 'A') ||
    setweight(to_tsvector('mk_english'::regconfig, "body"), 'B')
));
