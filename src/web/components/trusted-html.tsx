/**
 * The one door for markup into a page: HTML that the server's own sanitiser produced (an announcement body's
 * `bodyHtml`, from src/content/markdown.ts — the same rendering e-mails, feeds and the API carry). The type makes a
 * caller say where the HTML came from; tests/unit/web-templates.test.tsx fails if dangerouslySetInnerHTML appears
 * anywhere else in src/web.
 */
export interface SanitisedHtml {
  /** HTML from the sanitiser (never from a request, never concatenated with anything). */
  readonly sanitisedHtml: string;
}

export function TrustedHtml({ html, class: className }: { html: SanitisedHtml; class?: string }) {
  // Sanitised by src/content/sanitize.ts before it gets here (see SanitisedHtml).
  return <div class={className} dangerouslySetInnerHTML={{ __html: html.sanitisedHtml }} />;
}
