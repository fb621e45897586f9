-- Reading: per-person read state and ratings, and distinct-reader view counts.

-- CreateTable
CREATE TABLE "AnnouncementRead" (
    "userId" UUID NOT NULL,
    "announcementId" UUID NOT NULL,
    "readAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AnnouncementRead_pkey" PRIMARY KEY ("userId","announcementId")
);

-- CreateTable
CREATE TABLE "AnnouncementRating" (
    "userId" UUID NOT NULL,
    "announcementId" UUID NOT NULL,
    "stars" SMALLINT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "AnnouncementRating_pkey" PRIMARY KEY ("userId","announcementId"),
    -- The API validates too; the database is the last line, so no path can store a sixth star.
    CONSTRAINT "AnnouncementRating_stars_check" CHECK ("stars" BETWEEN 1 AND 5)
);

-- CreateTable
CREATE TABLE "AnnouncementViewer" (
    "announcementId" UUID NOT NULL,
    "viewerKey" TEXT NOT NULL,
    "firstViewedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AnnouncementViewer_pkey" PRIMARY KEY ("announcementId","viewerKey")
);

-- CreateIndex
CREATE INDEX "AnnouncementRead_announcementId_idx" ON "AnnouncementRead"("announcementId");

-- CreateIndex
CREATE INDEX "AnnouncementRating_announcementId_idx" ON "AnnouncementRating"("announcementId");

-- AddForeignKey
ALTER TABLE "AnnouncementRead" ADD CONSTRAINT "AnnouncementRead_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnnouncementRead" ADD CONSTRAINT "AnnouncementRead_announcementId_fkey" FOREIGN KEY ("announcementId") REFERENCES "Announcement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnnouncementRating" ADD CONSTRAINT "AnnouncementRating_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnnouncementRating" ADD CONSTRAINT "AnnouncementRating_announcementId_fkey" FOREIGN KEY ("announcementId") REFERENCES "Announcement"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnnouncementViewer" ADD CONSTRAINT "AnnouncementViewer_announcementId_fkey" FOREIGN KEY ("announcementId") REFERENCES "Announcement"("id") ON DELETE CASCADE ON UPDATE CASCADE;
