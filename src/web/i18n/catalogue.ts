/**
 * The one catalogue of the user interface's strings, in bokmål, nynorsk and English: every area's messages
 * (messages/*.ts) merged. A page asks for a string by key through its Translator (src/web/i18n/translator.ts), so a
 * key that does not exist does not compile. To add an area: write messages/<area>.ts with defineMessages and list
 * it in AREAS.
 */
import type { Language } from '../../domain/types.js';
import type { AreaMessages, Message } from './define.js';
import { admin } from './messages/admin.js';
import { common } from './messages/common.js';
import { devSignIn } from './messages/dev-sign-in.js';
import { emailLinks } from './messages/email-links.js';
import { home } from './messages/home.js';
import { me } from './messages/me.js';
import { publisher } from './messages/publisher.js';
import { reading } from './messages/reading.js';
import { signIn } from './messages/sign-in.js';
import { widget } from './messages/widget.js';
import { widgetDemo } from './messages/widget-demo.js';

/** Every area, in the order they are merged (a key defined twice is a test failure, not an override). */
export const AREAS = {
  common,
  home,
  publisher,
  widget,
  widgetDemo,
  reading,
  me,
  emailLinks,
  devSignIn,
  signIn,
  admin,
} as const;

type AreaKeys<A> = A extends AreaMessages<infer K> ? K : never;
/** Every key of the catalogue. */
export type MessageKey = AreaKeys<(typeof AREAS)[keyof typeof AREAS]>;

export type Catalogue = Readonly<Record<Language, Readonly<Record<MessageKey, Message>>>>;

function merge(language: Language): Readonly<Record<MessageKey, Message>> {
  return Object.freeze(
    Object.assign({}, ...Object.values(AREAS).map((area) => area[language])) as Record<MessageKey, Message>,
  );
}

export const CATALOGUE: Catalogue = Object.freeze({ nb: merge('nb'), nn: merge('nn'), en: merge('en') });
