-- Read caches in the API processes (src/services/read-cache.ts) keep the newest page of each channel, its feeds and
-- the channel itself in memory. They must forget them when what readers see changes, whichever process or tool made
-- the change, so the database says so itself: these triggers NOTIFY "meldingskanal_reads" with the id of the channel
-- whose reads changed, or '*' when any channel's may have (an author renamed, an organisation's code changed).
-- NOTIFY is delivered at commit, and only then (a rolled-back change tells nobody); identical payloads within one
-- transaction are delivered once, so a statement touching many rows of a channel costs one notification.

CREATE FUNCTION "meldingskanal_notify_reads"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid;
BEGIN
  IF TG_TABLE_NAME = 'Announcement' THEN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('meldingskanal_reads', OLD."channelId"::text); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('meldingskanal_reads', NEW."channelId"::text); END IF;
  ELSIF TG_TABLE_NAME = 'Channel' THEN
    IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('meldingskanal_reads', OLD.id::text); END IF;
    IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('meldingskanal_reads', NEW.id::text); END IF;
  ELSIF TG_TABLE_NAME IN ('User', 'Organisation') THEN
    PERFORM pg_notify('meldingskanal_reads', '*');
  ELSE
    -- A part of an announcement (translation, attachment, rating, viewer): its announcement's channel.
    SELECT a."channelId" INTO changed FROM "Announcement" a
     WHERE a.id = (CASE WHEN TG_OP = 'DELETE' THEN OLD."announcementId" ELSE NEW."announcementId" END);
    -- Deleted with its announcement (cascade): the announcement's own trigger has told already.
    IF changed IS NOT NULL THEN PERFORM pg_notify('meldingskanal_reads', changed::text); END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "Announcement_notify_reads" AFTER INSERT OR UPDATE OR DELETE ON "Announcement"
  FOR EACH ROW EXECUTE FUNCTION "meldingskanal_notify_reads"();
CREATE TRIGGER "AnnouncementTranslation_notify_reads" AFTER INSERT OR UPDATE OR DELETE ON "AnnouncementTranslation"
  FOR EACH ROW EXECUTE FUNCTION "meldingskanal_notify_reads"();
CREATE TRIGGER "Attachment_notify_reads" AFTER INSERT OR UPDATE OR DELETE ON "Attachment"
  FOR EACH ROW EXECUTE FUNCTION "meldingskanal_notify_reads"();
CREATE TRIGGER "AnnouncementRating_notify_reads" AFTER INSERT OR UPDATE OR DELETE ON "AnnouncementRating"
  FOR EACH ROW EXECUTE FUNCTION "meldingskanal_notify_reads"();
CREATE TRIGGER "AnnouncementViewer_notify_reads" AFTER INSERT OR DELETE ON "AnnouncementViewer"
  FOR EACH ROW EXECUTE FUNCTION "meldingskanal_notify_reads"();
CREATE TRIGGER "Channel_notify_reads" AFTER INSERT OR UPDATE OR DELETE ON "Channel"
  FOR EACH ROW EXECUTE FUNCTION "meldingskanal_notify_reads"();
-- Readers see an author's display name and an audience's organisation codes; nothing else of these rows.
CREATE TRIGGER "User_notify_reads" AFTER UPDATE OF "displayName" ON "User"
  FOR EACH ROW WHEN (OLD."displayName" IS DISTINCT FROM NEW."displayName")
  EXECUTE FUNCTION "meldingskanal_notify_reads"();
CREATE TRIGGER "Organisation_notify_reads" AFTER UPDATE OF code OR DELETE ON "Organisation"
  FOR EACH ROW EXECUTE FUNCTION "meldingskanal_notify_reads"();
