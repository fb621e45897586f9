/**
 * `<meldingskanal-feed>`: the custom element host pages put where the announcements should appear (attributes:
 * settings.ts; styling: styles.ts). It renders into an open shadow root — open so that the page's own tools
 * (accessibility checkers, screen-reader virtual buffers) see the content as part of the page — with its style
 * sheet adopted there as a constructable stylesheet: a page's Content-Security-Policy governs `<style>` elements and
 * `style` attributes, not adopted sheets, so the widget works under a strict `style-src` without 'unsafe-inline'.
 * Browsers without adoptedStyleSheets (Safari before 16.4, Firefox before 101) get a `<style>` element in the shadow
 * root instead — the only way to style a shadow root there; under a strict style-src that one is blocked and the
 * widget shows as plain, still usable, HTML.
 */
import { WIDGET_TAG } from '../../widget-contract.js';
import { type Feed, startFeed } from './feed.js';
import { readSettings, WIDGET_ATTRIBUTES } from './settings.js';
import { WIDGET_CSS } from './styles.js';

let sheet: CSSStyleSheet | undefined;

function adoptStyles(root: ShadowRoot): void {
  if ('adoptedStyleSheets' in ShadowRoot.prototype && 'replaceSync' in CSSStyleSheet.prototype) {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(WIDGET_CSS);
    }
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = WIDGET_CSS;
    root.prepend(style);
  }
}

/** Defines the element (once: a page may load the script twice). `service`: the origin the script came from. */
export function defineWidget(service: string): void {
  if (customElements.get(WIDGET_TAG)) return;
  customElements.define(
    WIDGET_TAG,
    class extends HTMLElement {
      static get observedAttributes() {
        return WIDGET_ATTRIBUTES;
      }

      private feed: Feed | undefined;
      private restartQueued = false;

      connectedCallback() {
        this.restart();
      }

      disconnectedCallback() {
        this.feed?.stop();
        this.feed = undefined;
      }

      attributeChangedCallback() {
        // Several attributes changed by one script are one restart.
        if (!this.feed || this.restartQueued) return;
        this.restartQueued = true;
        queueMicrotask(() => {
          this.restartQueued = false;
          if (this.isConnected) this.restart();
        });
      }

      private restart() {
        this.feed?.stop();
        const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
        const settings = readSettings(
          (name) => this.getAttribute(name),
          this.closest('[lang]')?.getAttribute('lang') ?? undefined,
        );
        this.feed = startFeed(this, root, settings, service);
        // After the content (replaceChildren would remove a fallback <style>).
        adoptStyles(root);
      }
    },
  );
}
