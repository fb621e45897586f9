-- Announcements in full: language versions, summary, type (maintenance window, incident follow-ups), audience by
-- organisation, expiry, drafts and scheduled publishing, edits with a revision history, acknowledgements and
-- attachments; and a delivery `kind`, so the ledger can hold more than one message per announcement and recipient
-- (acknowledgement reminders now, corrections later) without losing its one-row-per-message uniqueness.

-- AlterEnum: `scheduled` is a state between draft and published. (Not used elsewhere in this migration: a value added
-- in a transaction cannot be used before it commits.)
ALTER TYPE "AnnouncementStatus" ADD VALUE 'scheduled' BEFORE 'published';

-- CreateEnum
CREATE TYPE "AnnouncementType" AS ENUM ('general', 'maintenance', 'release', 'incident');

-- CreateEnum
CREATE TYPE "DeliveryKind" AS ENUM ('announcement', 'ack_reminder', 'correction');

-- AlterTable
ALTER TABLE "Announcement" ADD COLUMN "language" "Language" NOT NULL DEFAULT 'nb',
ADD COLUMN "summary" TEXT,
ADD COLUMN "type" "AnnouncementType" NOT NULL DEFAULT 'general',
ADD COLUMN "affectedSystem" TEXT,
ADD COLUMN "startsAt" TIMESTAMPTZ(3),
ADD COLUMN "endsAt" TIMESTAMPTZ(3),
ADD COLUMN "resolvesId" UUID,
ADD COLUMN "audienceOrganisationIds" UUID[] NOT NULL DEFAULT ARRAY[]::UUID[],
ADD COLUMN "publishAt" TIMESTAMPTZ(3),
ADD COLUMN "expiresAt" TIMESTAMPTZ(3),
ADD COLUMN "revision" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "editedAt" TIMESTAMPTZ(3),
ADD COLUMN "ackRequired" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "ackDeadline" TIMESTAMPTZ(3),
ADD COLUMN "ackRemindersAt" TIMESTAMPTZ(3);

-- A maintenance notice always says what is affected and when; a window ends after it starts.
ALTER TABLE "Announcement" ADD CONSTRAINT "Announcement_maintenance_window_check" CHECK (
    ("type" <> 'maintenance' OR ("affectedSystem" IS NOT NULL AND "startsAt" IS NOT NULL AND "endsAt" IS NOT NULL))
    AND ("startsAt" IS NULL OR "endsAt" IS NULL OR "endsAt" > "startsAt")
);
-- Only an incident is resolved by a follow-up, and the follow-up is itself an incident.
ALTER TABLE "Announcement" ADD CONSTRAINT "Announcement_resolves_check" CHECK ("resolvesId" IS NULL OR "type" = 'incident');
ALTER TABLE "Announcement" ADD CONSTRAINT "Announcement_ack_check" CHECK ("ackDeadline" IS NULL OR "ackRequired");
ALTER TABLE "Announcement" ADD CONSTRAINT "Announcement_revision_check" CHECK ("revision" >= 1);

-- CreateIndex: one resolved follow-up per incident.
CREATE UNIQUE INDEX "Announcement_resolvesId_key" ON "Announcement"("resolvesId");

-- CreateIndex: the scheduler's fallback sweep (`status = 'scheduled' AND "publishAt" <= now()`).
CREATE INDEX "Announcement_status_publishAt_idx" ON "Announcement"("status", "publishAt");

-- AddForeignKey
ALTER TABLE "Announcement" ADD CONSTRAINT "Announcement_resolvesId_fkey" FOREIGN KEY ("resolvesId") REFERENCES "Announcement"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "AnnouncementTranslation" (
    "announcementId" UUID NOT NULL,
    "language" "Language" NOT NULL,
    "title" TEXT NOT NULL,
    "summary" TEXT,
    "body" TEXT NOT NULL,

    CONSTRAINT "AnnouncementTranslation_pkey" PRIMARY KEY ("announcementId","language")
);

-- The same search documents as the announcements' own (20261126150100_search), so every language version is found.
CREATE INDEX "AnnouncementTranslation_search_nb_idx" ON "AnnouncementTranslation" USING GIN ((
    setweight(to_tsvector('mk_norwegian'::regconfig, "title"), 'A') ||
    setweight(to_tsvector('mk_norwegian'::regconfig, "body"), 'B')
));

CREATE INDEX "AnnouncementTranslation_search_en_idx" ON "AnnouncementTranslation" USING GIN ((
    setweight(to_tsvector('mk_english'::regconfig, "title"), 'A') ||
    setweight(to_tsvector('mk_english'::regconfig, "body"), 'B')
));

-- AddForeignKey
ALTER TABLE "AnnouncementTranslation" ADD CONSTRAINT "AnnouncementTranslation_announcementId_fkey" FOREIGN KEY ("announcementId") REFERENCES "Announcement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "AnnouncementRevision" (
    "id" BIGSERIAL NOT NULL,
    "announcementId" UUID NOT NULL,
    "revision" INTEGER NOT NULL,
    "editorId" UUID,
    "material" BOOLEAN NOT NULL,
    "note" TEXT,
    "content" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AnnouncementRevision_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AnnouncementRevision_announcementId_revision_key" ON "AnnouncementRevision"("announcementId", "revision");

-- AddForeignKey
ALTER TABLE "AnnouncementRevision" ADD CONSTRAINT "AnnouncementRevision_announcementId_fkey" FOREIGN KEY ("announcementId") REFERENCES "Announcement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnnouncementRevision" ADD CONSTRAINT "AnnouncementRevision_editorId_fkey" FOREIGN KEY ("editorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Every announcement written before this migration gets its first revision: the content it has now.
INSERT INTO "AnnouncementRevision" ("announcementId", "revision", "editorId", "material", "content", "createdAt")
SELECT a."id", 1, a."authorId", true,
       jsonb_build_object('language', 'nb', 'title', a."title", 'summary', NULL, 'body', a."body",
                          'translations', '[]'::jsonb),
       COALESCE(a."publishedAt", a."createdAt")
FROM "Announcement" a;

-- CreateTable
CREATE TABLE "AnnouncementAcknowledgement" (
    "announcementId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "organisationId" UUID,
    "acknowledgedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AnnouncementAcknowledgement_pkey" PRIMARY KEY ("announcementId","userId")
);

-- CreateIndex: counts over time for one announcement.
CREATE INDEX "AnnouncementAcknowledgement_announcementId_acknowledgedAt_idx" ON "AnnouncementAcknowledgement"("announcementId", "acknowledgedAt");

-- CreateIndex
CREATE INDEX "AnnouncementAcknowledgement_userId_idx" ON "AnnouncementAcknowledgement"("userId");

-- AddForeignKey
ALTER TABLE "AnnouncementAcknowledgement" ADD CONSTRAINT "AnnouncementAcknowledgement_announcementId_fkey" FOREIGN KEY ("announcementId") REFERENCES "Announcement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnnouncementAcknowledgement" ADD CONSTRAINT "AnnouncementAcknowledgement_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnnouncementAcknowledgement" ADD CONSTRAINT "AnnouncementAcknowledgement_organisationId_fkey" FOREIGN KEY ("organisationId") REFERENCES "Organisation"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "Attachment" (
    "id" UUID NOT NULL,
    "announcementId" UUID NOT NULL,
    "filename" TEXT NOT NULL,
    "contentType" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "storage" TEXT NOT NULL,
    "data" BYTEA,
    "uploaderId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Attachment_pkey" PRIMARY KEY ("id"),
    -- Bytes live in the row (storage 'database') or in ATTACHMENT_DIR under the attachment's id ('directory').
    CONSTRAINT "Attachment_storage_check" CHECK (
        ("storage" = 'database' AND "data" IS NOT NULL) OR ("storage" = 'directory' AND "data" IS NULL)
    ),
    CONSTRAINT "Attachment_size_check" CHECK ("size" >= 0)
);

-- CreateIndex
CREATE INDEX "Attachment_announcementId_createdAt_idx" ON "Attachment"("announcementId", "createdAt");

-- AddForeignKey
ALTER TABLE "Attachment" ADD CONSTRAINT "Attachment_announcementId_fkey" FOREIGN KEY ("announcementId") REFERENCES "Announcement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Attachment" ADD CONSTRAINT "Attachment_uploaderId_fkey" FOREIGN KEY ("uploaderId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AlterTable: the ledger's key becomes announcement × recipient × medium × kind × revision. Existing rows are
-- announcement messages of revision 0 (the original), so the old uniqueness carries over unchanged.
ALTER TABLE "Delivery" ADD COLUMN "kind" "DeliveryKind" NOT NULL DEFAULT 'announcement',
ADD COLUMN "revision" INTEGER NOT NULL DEFAULT 0;

-- DropIndex
DROP INDEX "Delivery_announcementId_recipient_medium_key";

-- CreateIndex
CREATE UNIQUE INDEX "Delivery_announcementId_recipient_medium_kind_revision_key" ON "Delivery"("announcementId", "recipient", "medium", "kind", "revision");
