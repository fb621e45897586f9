/**
 * The shape of the user-interface catalogue (src/web/i18n/catalogue.ts). Pure data and types: the server's templates
 * and the browser modules (the widget) import the same messages.
 *
 * A message is a string with `{name}` placeholders, or a pair of plural forms chosen by `{count}` (bokmål, nynorsk
 * and English all have one/other). Each area of the interface keeps its messages in one file under messages/, written
 * with `defineMessages`: bokmål is the source, and the types make nynorsk and English name exactly the same keys, so
 * a missing or stray translation does not compile. tests/unit/web-i18n.test.ts checks the rest (non-empty, the same
 * placeholders in every language, no key defined by two areas).
 */
import type { Language } from '../../domain/types.js';

export type Plural = { readonly one: string; readonly other: string };
export type Message = string | Plural;

export type AreaMessages<K extends string> = Readonly<Record<Language, Readonly<Record<K, Message>>>>;

/** One area's messages: bokmål first; nynorsk and English must have exactly its keys. */
export function defineMessages<const K extends string>(
  nb: Readonly<Record<K, Message>>,
  translations: { nn: Readonly<Record<K, Message>>; en: Readonly<Record<K, Message>> },
): AreaMessages<K> {
  return { nb, nn: translations.nn, en: translations.en };
}

/** Values for a message's placeholders. `count` also picks the plural form. */
export type MessageParams = Readonly<Record<string, string | number>>;

const PLURAL_RULES: Record<Language, Intl.PluralRules> = {
  nb: new Intl.PluralRules('nb'),
  nn: new Intl.PluralRules('nn'),
  en: new Intl.PluralRules('en'),
};

/** Numbers as the language writes them (1 000 in Norwegian, 1,000 in English). */
const NUMBER_FORMATS: Record<Language, Intl.NumberFormat> = {
  nb: new Intl.NumberFormat('nb-NO'),
  nn: new Intl.NumberFormat('nn-NO'),
  en: new Intl.NumberFormat('en-GB'),
};

/** Fills in a message: the plural form by `count`, then each `{name}`. An unknown placeholder stays visible. */
export function formatMessage(language: Language, message: Message, params: MessageParams = {}): string {
  let text: string;
  if (typeof message === 'string') {
    text = message;
  } else {
    const count = Number(params.count ?? 0);
    text = PLURAL_RULES[language].select(count) === 'one' ? message.one : message.other;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? NUMBER_FORMATS[language].format(value) : value;
  });
}

/** The placeholders a message uses (both plural forms), for the catalogue test. */
export function placeholdersOf(message: Message): string[] {
  const texts = typeof message === 'string' ? [message] : [message.one, message.other];
  return [...new Set(texts.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!)))].sort();
}
