/**
 * The widget's attributes, read into settings (pure: the element hands in a getter, tests a map).
 *
 * | attribute       | values                                                        | default                      |
 * | --------------- | ------------------------------------------------------------- | ---------------------------- |
 * | `channel`       | one or more channel slugs, comma-separated (at most 10)       | — (required)                 |
 * | `lang`          | `nb`, `nn`, `en`                                              | the host page's `lang`, else nb |
 * | `limit`         | 1–20                                                          | 5                            |
 * | `importance`    | `info`, `important`, `critical`, comma-separated; or a minimum as `important+` | all         |
 * | `layout`        | `full` (with summaries) or `compact` (titles and dates)       | full                         |
 * | `theme`         | `auto` (the reader's colour scheme), `light`, `dark`          | auto                         |
 * | `heading`       | the widget's heading                                          | the channel's title / "Kunngjøringer" |
 * | `heading-level` | 2–6: the widget's heading level (announcements get the next)  | 2                            |
 * | `transport`     | `auto`, `websocket`, `sse` (for networks known to break WebSockets) | auto                   |
 *
 * Values that are not valid fall back to the default (a typo in a host page must not break the page). `theme` is
 * read by the style sheet alone (`:host([theme=dark])`), so changing it restarts nothing.
 */

import {
  WIDGET_DEFAULT_LIMIT as DEFAULT_LIMIT,
  WIDGET_MAX_CHANNELS as MAX_CHANNELS,
  WIDGET_MAX_LIMIT as MAX_LIMIT,
} from '../../widget-contract.js';
import type { Importance } from '../live/frames.js';

export type WidgetLanguage = 'nb' | 'nn' | 'en';

export interface WidgetSettings {
  channels: string[];
  language: WidgetLanguage;
  limit: number;
  /** The importances shown; undefined: every one. */
  importances: Importance[] | undefined;
  layout: 'full' | 'compact';
  heading: string | undefined;
  headingLevel: number;
  transport: 'auto' | 'websocket' | 'sse';
}

export const WIDGET_ATTRIBUTES = [
  'channel',
  'lang',
  'limit',
  'importance',
  'layout',
  'heading',
  'heading-level',
  'transport',
] as const;

const IMPORTANCE_ORDER: readonly Importance[] = ['info', 'important', 'critical'];
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** nb, nn or en from a language tag (`nb-NO`, `no`, `nn`, `en-GB`), or undefined for another language. */
export function widgetLanguageOf(tag: string | null | undefined): WidgetLanguage | undefined {
  const primary = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0];
  if (primary === 'nb' || primary === 'no') return 'nb';
  if (primary === 'nn') return 'nn';
  if (primary === 'en') return 'en';
  return undefined;
}

function importancesOf(value: string | null): Importance[] | undefined {
  if (!value?.trim()) return undefined;
  const text = value.trim().toLowerCase();
  const from = text.endsWith('+') ? IMPORTANCE_ORDER.indexOf(text.slice(0, -1) as Importance) : -1;
  const chosen =
    from >= 0
      ? IMPORTANCE_ORDER.slice(from)
      : IMPORTANCE_ORDER.filter((importance) => text.split(/[\s,]+/).includes(importance));
  // Every importance (or none recognised) is no filter at all: one request per channel instead of three.
  return chosen.length && chosen.length < IMPORTANCE_ORDER.length ? chosen : undefined;
}

const oneOf = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T =>
  allowed.includes(value?.trim().toLowerCase() as T) ? (value!.trim().toLowerCase() as T) : fallback;

/**
 * The settings from the element's attributes. `pageLanguage` is the nearest `lang` around the element (the host
 * page's), used when the element has no `lang` of its own.
 */
export function readSettings(attribute: (name: string) => string | null, pageLanguage?: string): WidgetSettings {
  const channels = [
    ...new Set(
      (attribute('channel') ?? '')
        .split(',')
        .map((slug) => slug.trim().toLowerCase())
        .filter((slug) => slug.length <= 64 && SLUG.test(slug)),
    ),
  ].slice(0, MAX_CHANNELS);
  const limit = Number.parseInt(attribute('limit') ?? '', 10);
  const level = Number.parseInt(attribute('heading-level') ?? '', 10);
  return {
    channels,
    language: widgetLanguageOf(attribute('lang')) ?? widgetLanguageOf(pageLanguage) ?? 'nb',
    limit: Number.isFinite(limit) ? Math.min(Math.max(limit, 1), MAX_LIMIT) : DEFAULT_LIMIT,
    importances: importancesOf(attribute('importance')),
    layout: oneOf(attribute('layout'), ['full', 'compact'], 'full'),
    heading: attribute('heading')?.trim() || undefined,
    headingLevel: level >= 2 && level <= 6 ? level : 2,
    transport: oneOf(attribute('transport'), ['auto', 'websocket', 'sse'], 'auto'),
  };
}
