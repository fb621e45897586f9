/**
 * "Copy" buttons for read-only fields the page shows to be copied (the widget snippet on a channel's page, a new API
 * token or feed address): each `[data-copy]` holds a `[data-copy-source]` field and hidden `[data-copy-controls]`,
 * shown here, since copying needs the clipboard API. Without JavaScript the field is still there to select.
 */
// A module (its names stay its own; entries are bundled separately).
export {};

for (const root of document.querySelectorAll<HTMLElement>('[data-copy]')) {
  const source = root.querySelector<HTMLInputElement | HTMLTextAreaElement>('[data-copy-source]');
  const controls = root.querySelector<HTMLElement>('[data-copy-controls]');
  const button = root.querySelector<HTMLButtonElement>('[data-copy-button]');
  const status = root.querySelector<HTMLElement>('[data-copy-status]');
  if (!source || !controls || !button || !navigator.clipboard) continue;
  controls.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(source.value);
      if (status) status.textContent = status.dataset.copiedText ?? '';
    } catch {
      // The browser refused (no permission): select the text so the person can copy it themselves.
      source.select();
    }
  });
}
