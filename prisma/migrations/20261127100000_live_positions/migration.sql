-- The live log's commit-ordered positions (src/realtime/README.md, "Positions, replay and reset"). The outbox relay
-- sets OutboxEvent.position for every live event it relays, from OutboxEvent_position_seq, while it holds one
-- advisory lock until its transaction commits: positions are handed out in commit order, unlike ids, which are taken
-- at insert. Clients resume from a position (`since`), so a transaction that commits after one with a higher id can
-- no longer leave a reconnecting client without its event.

-- AlterTable
ALTER TABLE "OutboxEvent" ADD COLUMN "position" BIGINT;

-- Events relayed before positions existed keep their id as position, so a client's `since` (an id until now) keeps
-- its meaning; events not yet relayed get theirs when they are.
UPDATE "OutboxEvent" SET "position" = id WHERE "relayedAt" IS NOT NULL;

-- Only the relay draws from it, under the lock (Prisma's schema cannot express a sequence without a column default;
-- it is not in schema.prisma).
CREATE SEQUENCE "OutboxEvent_position_seq" AS BIGINT MINVALUE 1;
-- Past every id, so no later position is at or below a position (an id) a client may already hold.
SELECT setval('"OutboxEvent_position_seq"', max(id)) FROM "OutboxEvent" HAVING max(id) IS NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "OutboxEvent_position_key" ON "OutboxEvent"("position");

-- The replay reads by channel and position; it replaces the index by channel and id.
DROP INDEX "OutboxEvent_channelId_id_idx";
CREATE INDEX "OutboxEvent_channelId_position_idx" ON "OutboxEvent"("channelId", "position");
