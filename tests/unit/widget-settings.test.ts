/** The widget's attributes read into settings (src/web/client/widget/settings.ts) and the snippet that sets them. */
import { describe, expect, it } from 'vitest';
import { readSettings, widgetLanguageOf } from '../../src/web/client/widget/settings.js';
import { widgetSnippet } from '../../src/web/widget-snippet.js';

const settingsOf = (attributes: Record<string, string>, pageLanguage?: string) =>
  readSettings((name) => attributes[name] ?? null, pageLanguage);

describe('widget settings', () => {
  it('has defaults for everything but the channel', () => {
    expect(settingsOf({ channel: 'bott-sa' })).toEqual({
      channels: ['bott-sa'],
      language: 'nb',
      limit: 5,
      importances: undefined,
      layout: 'full',
      heading: undefined,
      headingLevel: 2,
      transport: 'auto',
    });
  });

  it('reads several channels, drops what is not a slug and duplicates, and keeps at most ten', () => {
    expect(settingsOf({ channel: ' bott-sa, BOTT-okonomi ,bad slug,,bott-sa,-x,<b>' }).channels).toEqual([
      'bott-sa',
      'bott-okonomi',
    ]);
    const many = Array.from({ length: 12 }, (_, i) => `c${i}`).join(',');
    expect(settingsOf({ channel: many }).channels).toHaveLength(10);
    expect(settingsOf({}).channels).toEqual([]);
  });

  it('takes the language from lang, else from the host page, else bokmål', () => {
    expect(settingsOf({ lang: 'nn' }, 'en').language).toBe('nn');
    expect(settingsOf({}, 'en-GB').language).toBe('en');
    expect(settingsOf({}, 'no').language).toBe('nb');
    expect(settingsOf({}, 'nn-NO').language).toBe('nn');
    expect(settingsOf({ lang: 'de' }, 'sv').language).toBe('nb');
    expect(widgetLanguageOf('EN_us')).toBe('en');
    expect(widgetLanguageOf(undefined)).toBeUndefined();
  });

  it('bounds limit and heading-level, and falls back on nonsense', () => {
    expect(settingsOf({ limit: '3' }).limit).toBe(3);
    expect(settingsOf({ limit: '0' }).limit).toBe(1);
    expect(settingsOf({ limit: '500' }).limit).toBe(20);
    expect(settingsOf({ limit: 'many' }).limit).toBe(5);
    expect(settingsOf({ 'heading-level': '3' }).headingLevel).toBe(3);
    expect(settingsOf({ 'heading-level': '1' }).headingLevel).toBe(2);
    expect(settingsOf({ 'heading-level': '7' }).headingLevel).toBe(2);
  });

  it('filters importance by a list or a minimum; all three (or none valid) is no filter', () => {
    expect(settingsOf({ importance: 'important,critical' }).importances).toEqual(['important', 'critical']);
    expect(settingsOf({ importance: 'critical important' }).importances).toEqual(['important', 'critical']);
    expect(settingsOf({ importance: 'important+' }).importances).toEqual(['important', 'critical']);
    expect(settingsOf({ importance: 'critical+' }).importances).toEqual(['critical']);
    expect(settingsOf({ importance: 'info+' }).importances).toBeUndefined();
    expect(settingsOf({ importance: 'info,important,critical' }).importances).toBeUndefined();
    expect(settingsOf({ importance: 'urgent' }).importances).toBeUndefined();
  });

  it('reads layout, heading and transport', () => {
    const settings = settingsOf({ layout: 'Compact', heading: '  Driftsmeldinger ', transport: 'sse' });
    expect([settings.layout, settings.heading, settings.transport]).toEqual(['compact', 'Driftsmeldinger', 'sse']);
    expect(settingsOf({ layout: 'tiny', transport: 'carrier-pigeon', heading: '  ' })).toMatchObject({
      layout: 'full',
      transport: 'auto',
      heading: undefined,
    });
  });

  it('reads back what the snippet writes', () => {
    const snippet = widgetSnippet({
      publicUrl: 'https://meldinger.example/',
      channels: ['bott-sa', 'bott-hr'],
      lang: 'nn',
      limit: 8,
      importance: ['important', 'critical'],
      layout: 'compact',
    });
    expect(snippet).toBe(
      '<script type="module" src="https://meldinger.example/widget.js"></script>\n' +
        '<meldingskanal-feed channel="bott-sa,bott-hr" lang="nn" limit="8" importance="important,critical" ' +
        'layout="compact"></meldingskanal-feed>',
    );
    const attributes = Object.fromEntries(
      [...snippet.matchAll(/ ([a-z-]+)="([^"]*)"/g)]
        .filter((m) => m[1] !== 'type' && m[1] !== 'src')
        .map((m) => [m[1], m[2]]),
    );
    expect(settingsOf(attributes)).toMatchObject({
      channels: ['bott-sa', 'bott-hr'],
      language: 'nn',
      limit: 8,
      importances: ['important', 'critical'],
      layout: 'compact',
    });
  });

  it('refuses to write a snippet of what is not a slug or out of bounds, rather than quoting it', () => {
    const base = { publicUrl: 'https://meldinger.example', lang: 'nb' as const };
    expect(() => widgetSnippet({ ...base, channels: ['"><script>'] })).toThrow(/Not a channel slug/);
    expect(() => widgetSnippet({ ...base, channels: [] })).toThrow(/1 to 10 channels/);
    expect(() => widgetSnippet({ ...base, channels: ['a'], limit: 21 })).toThrow(/1 to 20 announcements/);
  });
});
