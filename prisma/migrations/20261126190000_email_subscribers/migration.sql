-- E-mail subscribers without an account (double opt-in, imports) and the suppression list.

-- AlterTable: how a subscription came to be (an account's own choice, an address entered on a public page, an
-- import by the channel's owners), and the confirmation e-mails sent for it (rate-limited per address).
ALTER TABLE "Subscription" ADD COLUMN "source" TEXT NOT NULL DEFAULT 'account',
ADD COLUMN "confirmationSentAt" TIMESTAMPTZ(3),
ADD COLUMN "confirmationsSent" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "Subscription" ADD CONSTRAINT "Subscription_source_check" CHECK ("source" IN ('account', 'self', 'import'));
ALTER TABLE "Subscription" ADD CONSTRAINT "Subscription_confirmations_check" CHECK ("confirmationsSent" >= 0);

-- CreateTable: addresses no e-mail goes to (a permanent 5xx reply). Kept after lifting, for the record; only the
-- owner's explicit re-subscription (a confirmed double opt-in) lifts it.
CREATE TABLE "EmailSuppression" (
    "email" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT,
    "deliveryId" BIGINT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "liftedAt" TIMESTAMPTZ(3),

    CONSTRAINT "EmailSuppression_pkey" PRIMARY KEY ("email"),
    -- Stored lower-cased, so one address is one row whatever its spelling in a subscription.
    CONSTRAINT "EmailSuppression_email_check" CHECK ("email" = lower("email"))
);
