-- Digests and retraction e-mails (delivery in full).

-- AlterEnum: a retraction notice to those who received the announcement. (Not used in this migration: a value added
-- in a transaction cannot be used before it commits.)
ALTER TYPE "DeliveryKind" ADD VALUE 'retraction';

-- CreateTable: the digest ledger. One row per recipient, mode and period, decided when the period closes: the unique
-- key makes a second scheduler firing (or a retry after a crash) find the row instead of making another digest, and
-- `announcementIds` fixes what it contains, so a resend is the same message. Status follows the Delivery ledger's.
CREATE TABLE "Digest" (
    "id" BIGSERIAL NOT NULL,
    "recipient" TEXT NOT NULL,
    "mode" "EmailMode" NOT NULL,
    "language" "Language" NOT NULL DEFAULT 'nb',
    "periodStart" TIMESTAMPTZ(3) NOT NULL,
    "periodEnd" TIMESTAMPTZ(3) NOT NULL,
    "announcementIds" UUID[] NOT NULL DEFAULT ARRAY[]::UUID[],
    "status" "DeliveryStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "skipReason" TEXT,
    "nextAttemptAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimedAt" TIMESTAMPTZ(3),
    "sentAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Digest_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Digest_mode_check" CHECK ("mode" IN ('daily', 'weekly')),
    CONSTRAINT "Digest_period_check" CHECK ("periodEnd" > "periodStart")
);

-- CreateIndex
CREATE UNIQUE INDEX "Digest_recipient_mode_periodStart_key" ON "Digest"("recipient", "mode", "periodStart");

-- CreateIndex: the sweeper's and the sender's work list, as for Delivery.
CREATE INDEX "Digest_status_nextAttemptAt_idx" ON "Digest"("status", "nextAttemptAt");

-- CreateIndex: "since their last digest".
CREATE INDEX "Digest_recipient_mode_periodEnd_idx" ON "Digest"("recipient", "mode", "periodEnd");
