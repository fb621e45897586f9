-- Webhooks choose their event types: a published announcement, a material edit of one (with its revision note), a
-- retraction. Every webhook, existing ones included, starts with all three; at least one stays chosen (a webhook that
-- wants nothing is switched off instead), and only these three are known.

-- AlterTable
ALTER TABLE "Webhook"
    ADD COLUMN "events" TEXT[] NOT NULL
        DEFAULT ARRAY['announcement.published', 'announcement.updated', 'announcement.retracted']::TEXT[],
    ADD CONSTRAINT "Webhook_events_check" CHECK (
        cardinality("events") > 0
        AND "events" <@ ARRAY['announcement.published', 'announcement.updated', 'announcement.retracted']::TEXT[]
    );
