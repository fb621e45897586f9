/**
 * The two category vocabularies every announcement carries in feeds — importance and type — with labels in the feed's
 * language. Terms are the stable machine values; labels are for people.
 */
import { ANNOUNCEMENT_TYPES, type AnnouncementType } from '../domain/announcement.js';
import type { Importance, Language } from '../domain/types.js';
import { assertAbsoluteIri, type FeedCategory } from './model.js';

/** Re-exported for the feed modules' callers; the domain owns the list. */
export { ANNOUNCEMENT_TYPES, type AnnouncementType };

export const IMPORTANCE_LABELS: Readonly<Record<Importance, Readonly<Record<Language, string>>>> = {
  info: { nb: 'Informasjon', nn: 'Informasjon', en: 'Information' },
  important: { nb: 'Viktig', nn: 'Viktig', en: 'Important' },
  critical: { nb: 'Kritisk', nn: 'Kritisk', en: 'Critical' },
};

export const ANNOUNCEMENT_TYPE_LABELS: Readonly<Record<AnnouncementType, Readonly<Record<Language, string>>>> = {
  general: { nb: 'Generelt', nn: 'Generelt', en: 'General' },
  maintenance: { nb: 'Planlagt nedetid', nn: 'Planlagd nedetid', en: 'Planned downtime' },
  release: { nb: 'Ny versjon', nn: 'Ny versjon', en: 'Release' },
  incident: { nb: 'Driftsforstyrrelse', nn: 'Driftsforstyrring', en: 'Incident' },
};

/**
 * The importance and type categories of one announcement.
 *
 * @param schemeBase absolute IRI the two scheme names are appended to, e.g. `${PUBLIC_URL}/feeds/categories/` gives
 *   the schemes `…/importance` and `…/type`. Schemes are identifiers; they need not resolve.
 */
export function announcementCategories(input: {
  importance: Importance;
  type: AnnouncementType;
  language: Language;
  schemeBase: string;
}): FeedCategory[] {
  assertAbsoluteIri(input.schemeBase, 'schemeBase');
  return [
    {
      scheme: `${input.schemeBase}importance`,
      term: input.importance,
      label: IMPORTANCE_LABELS[input.importance][input.language],
    },
    {
      scheme: `${input.schemeBase}type`,
      term: input.type,
      label: ANNOUNCEMENT_TYPE_LABELS[input.type][input.language],
    },
  ];
}
