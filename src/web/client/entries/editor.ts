/**
 * The editor's live preview: as a publisher types a body, the server renders it with the one renderer every reader
 * gets (src/content/markdown.ts, via POST /publish/preview) and the version's preview pane shows the result — so
 * what they see is what will be published, sanitised, never a browser-side Markdown dialect. Without JavaScript the
 * form's "Preview" button does the same by reloading the form.
 *
 * The pane is updated after a short pause in typing, one request at a time per body (an answer that arrives after a
 * newer one started is dropped). The HTML comes from the server's sanitiser (the same markup the page itself puts in
 * with TrustedHtml).
 */

const PAUSE_MS = 350;

interface PreviewAnswer {
  html: string;
}

function csrfToken(form: HTMLFormElement): string {
  const field = form.elements.namedItem('_csrf');
  return field instanceof HTMLInputElement ? field.value : '';
}

function connect(form: HTMLFormElement, textarea: HTMLTextAreaElement, pane: HTMLElement, url: string): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;
  const emptyText = pane.dataset.empty ?? '';

  const render = async () => {
    const request = ++latest;
    const body = textarea.value;
    if (!body.trim()) {
      const placeholder = document.createElement('p');
      placeholder.className = 'ds-paragraph mk-meta';
      placeholder.textContent = emptyText;
      pane.replaceChildren(placeholder);
      return;
    }
    pane.setAttribute('aria-busy', 'true');
    try {
      const response = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          'x-csrf-token': csrfToken(form),
        },
        body: new URLSearchParams({ body }).toString(),
      });
      if (!response.ok || request !== latest) return;
      const answer = (await response.json()) as PreviewAnswer;
      if (request !== latest) return;
      // Sanitised by the server (src/content/sanitize.ts), as the page's own preview is.
      pane.innerHTML = answer.html;
    } catch {
      // Offline or the server is away: the "Preview" button still works once it is back.
    } finally {
      if (request === latest) pane.removeAttribute('aria-busy');
    }
  };

  textarea.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void render(), PAUSE_MS);
  });
}

for (const form of document.querySelectorAll<HTMLFormElement>('form[data-preview-url]')) {
  const url = form.dataset.previewUrl;
  if (!url) continue;
  form.classList.add('mk-editor--live');
  for (const textarea of form.querySelectorAll<HTMLTextAreaElement>('textarea[data-preview]')) {
    const pane = document.getElementById(textarea.dataset.preview ?? '');
    if (pane) connect(form, textarea, pane, url);
  }
}

// A module (its names are its own), though it exports nothing.
export {};
