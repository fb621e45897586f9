/** Small pieces the publishers' pages share. */
import type { AnnouncementStatus } from '../../../domain/announcement.js';
import type { PageContext } from '../../context.js';

const STATUS_COLOURS: Record<AnnouncementStatus, 'neutral' | 'info' | 'success' | 'danger'> = {
  draft: 'neutral',
  scheduled: 'info',
  published: 'success',
  retracted: 'danger',
};

/** An announcement's state as a Designsystemet tag ("Utkast", "Planlagt", "Publisert", "Trukket tilbake"). */
export function StatusTag({ ctx, status }: { ctx: PageContext; status: AnnouncementStatus }) {
  return (
    <span class="ds-tag" data-color={STATUS_COLOURS[status]}>
      {ctx.t(`publisher.status.${status}`)}
    </span>
  );
}

/** A size as the reader's language writes it: "1,5 MB", "12 kB". */
export function formatBytes(ctx: PageContext, bytes: number): string {
  const locale = ctx.language === 'en' ? 'en-GB' : 'nb-NO';
  if (bytes >= 1024 * 1024) {
    const megabytes = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(bytes / (1024 * 1024));
    return `${megabytes} MB`;
  }
  return `${new Intl.NumberFormat(locale).format(Math.max(1, Math.ceil(bytes / 1024)))} kB`;
}
