-- Lifecycle: idempotent publishing (a client that retries a publish with the same Idempotency-Key gets the first
-- response again instead of a second announcement; keys live 24 hours, src/services/idempotency.ts) and retraction
-- (when an announcement was withdrawn: the time feeds give its tombstone, src/services/retract.ts) and pinning
-- (pinned while "pinnedAt" is set and "pinnedUntil" is null or later than now, src/services/pin.ts).

-- AlterTable
ALTER TABLE "Announcement" ADD COLUMN "retractedAt" TIMESTAMPTZ(3),
ADD COLUMN "pinnedAt" TIMESTAMPTZ(3),
ADD COLUMN "pinnedUntil" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "userId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "responseStatus" INTEGER NOT NULL,
    "responseBody" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    -- The primary key is the (userId, key) uniqueness that decides between concurrent requests with one key.
    CONSTRAINT "IdempotencyKey_pkey" PRIMARY KEY ("userId","key")
);

-- CreateIndex
CREATE INDEX "IdempotencyKey_createdAt_idx" ON "IdempotencyKey"("createdAt");

-- AddForeignKey
ALTER TABLE "IdempotencyKey" ADD CONSTRAINT "IdempotencyKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
