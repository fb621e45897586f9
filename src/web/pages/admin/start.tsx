/** The administrators' start page (/admin): each section of the admin area with what it is for. */
import type { PageContext } from '../../context.js';
import { ADMIN_SECTIONS, AdminFrame } from './shared.js';

export function AdminStartPage({ ctx }: { ctx: PageContext }) {
  return (
    <AdminFrame ctx={ctx} title={ctx.t('admin.start.title')} section="start" lead={ctx.t('admin.start.lead')}>
      <ul class="mk-admin-sections">
        {ADMIN_SECTIONS.map((item) => (
          <li key={item.section} class="ds-card mk-stack">
            <h2 class="ds-heading" data-size="xs">
              <a class="ds-link" href={item.href}>
                {ctx.t(item.title)}
              </a>
            </h2>
            <p class="ds-paragraph" data-size="sm">
              {ctx.t(item.lead)}
            </p>
          </li>
        ))}
      </ul>
    </AdminFrame>
  );
}
