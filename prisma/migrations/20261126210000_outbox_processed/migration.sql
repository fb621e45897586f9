-- The outbox as the ledger of fan-out work: an event that needs a job on the fan-out queue (a publication, a material
-- edit, a retraction) is `processedAt` only when that job finished. The sweeper re-adds the job of an event relayed
-- long ago but never processed (its job was lost with Redis data), so losing Redis loses no fan-out.

-- AlterTable
ALTER TABLE "OutboxEvent" ADD COLUMN "processedAt" TIMESTAMPTZ(3);

-- Events relayed before this migration were handed to their jobs by a relay that did not track them: count them done.
UPDATE "OutboxEvent" SET "processedAt" = "relayedAt" WHERE "relayedAt" IS NOT NULL;

-- CreateIndex: the sweeper's work list, small whatever the size of the log (Prisma's schema cannot express a partial
-- index; it is not in schema.prisma, like the search indexes).
CREATE INDEX "OutboxEvent_unprocessed_idx" ON "OutboxEvent"("relayedAt") WHERE "processedAt" IS NULL AND "relayedAt" IS NOT NULL;
