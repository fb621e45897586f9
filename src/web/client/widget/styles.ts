/**
 * The widget's style sheet, applied inside its shadow root (the host page's styles do not reach in, ours do not leak
 * out). Themable from the host page:
 *
 * Custom properties (set them on `meldingskanal-feed` or any ancestor; they apply to both colour schemes):
 * `--mk-font-family` (default: inherited from the page), `--mk-font-size` (inherited), `--mk-line-height` (1.45),
 * `--mk-text`, `--mk-muted` (dates, secondary text), `--mk-background`, `--mk-border`, `--mk-accent` (links,
 * badge), `--mk-focus` (focus ring), `--mk-important`, `--mk-important-background`, `--mk-critical`,
 * `--mk-critical-background`, `--mk-radius` (corners), `--mk-gap` (space between announcements), `--mk-padding`.
 *
 * Parts (`meldingskanal-feed::part(title) { … }`): `container`, `header`, `heading`, `badge`, `status`, `retry`,
 * `list`, `item` (each announcement; also `item-important`, `item-critical`, `item-pinned`), `title`, `link`,
 * `meta`, `date`, `importance`, `pinned`, `summary`, `footer`, `more`.
 *
 * Colours: the widget draws its own background, so its contrast (WCAG AA) does not depend on the host page; it
 * follows the reader's `prefers-color-scheme` unless the element says `theme="light"` or `theme="dark"` (for host
 * pages that have only one scheme). Width: the element measures itself (ResizeObserver, see element.ts) and sets
 * `data-width="wide"` on the container from 34em, so a sidebar and a wide column each get their layout whatever the
 * page's viewport. Animations (the highlight of a new announcement) are off with `prefers-reduced-motion`.
 */

const LIGHT =
  '--_text:var(--mk-text,#1b2430);--_muted:var(--mk-muted,#4a5563);--_bg:var(--mk-background,#fff);' +
  '--_border:var(--mk-border,#c9d0d8);--_accent:var(--mk-accent,#0557a5);--_focus:var(--mk-focus,#0557a5);' +
  '--_important:var(--mk-important,#7a4300);--_important-bg:var(--mk-important-background,#fff3df);' +
  '--_critical:var(--mk-critical,#a61b1b);--_critical-bg:var(--mk-critical-background,#fdeceb);--_new:#e6f0fb;';

const DARK =
  '--_text:var(--mk-text,#e9eef3);--_muted:var(--mk-muted,#b3bdc8);--_bg:var(--mk-background,#171b21);' +
  '--_border:var(--mk-border,#4a5563);--_accent:var(--mk-accent,#8cc4ff);--_focus:var(--mk-focus,#8cc4ff);' +
  '--_important:var(--mk-important,#ffc46b);--_important-bg:var(--mk-important-background,#33270f);' +
  '--_critical:var(--mk-critical,#ff9b94);--_critical-bg:var(--mk-critical-background,#3a1a19);--_new:#1f3348;';

export const WIDGET_CSS = `
:host{display:block;${LIGHT}font-family:var(--mk-font-family,inherit);font-size:var(--mk-font-size,inherit);line-height:var(--mk-line-height,1.45);color:var(--_text)}
:host([hidden]){display:none}
:host([theme=dark]){${DARK}}
@media (prefers-color-scheme:dark){:host(:not([theme=light])){${DARK}}}
*{box-sizing:border-box}
[hidden]{display:none!important}
.c{background:var(--_bg);color:var(--_text);border:1px solid var(--_border);border-radius:var(--mk-radius,.5rem);padding:var(--mk-padding,1em);overflow-wrap:anywhere}
.h{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:.25em .75em;margin:0 0 .75em}
.hd{margin:0;font-size:1.2em;line-height:1.25;font-weight:700}
.bd{display:inline-block;padding:.1em .6em;border-radius:1em;background:var(--_accent);color:var(--_bg);font-size:.85em;font-weight:700;text-decoration:none}
.st{margin:0 0 .75em;color:var(--_muted)}
.st:empty{display:none}
.l{list-style:none;margin:0;padding:0;display:grid;gap:var(--mk-gap,.75em)}
.l:empty{display:none}
.i{margin:0;padding:0 0 var(--mk-gap,.75em);border-bottom:1px solid var(--_border)}
.i:last-child{padding-bottom:0;border-bottom:0}
.i.imp,.i.crit{padding:.6em .75em;border:0;border-left:.3em solid var(--_important);border-radius:.25em;background:var(--_important-bg)}
.i.crit{border-left-color:var(--_critical);background:var(--_critical-bg)}
.t{margin:0;font-size:1em;line-height:1.3;font-weight:700}
.i.crit .t{font-size:1.05em}
a{color:var(--_accent);text-underline-offset:.15em}
a:hover{text-decoration-thickness:.15em}
a:focus-visible,button:focus-visible{outline:3px solid var(--_focus);outline-offset:2px;border-radius:2px}
.m{margin:.2em 0 0;color:var(--_muted);font-size:.875em;display:flex;flex-wrap:wrap;gap:.2em .6em;align-items:baseline}
.b{font-weight:700;text-transform:uppercase;letter-spacing:.04em;font-size:.85em;color:var(--_important)}
.i.crit .b{color:var(--_critical)}
.p{font-weight:700;font-size:.85em}
.s{margin:.3em 0 0}
.f{margin:.9em 0 0;font-size:.9em}
button{font:inherit;color:var(--_accent);background:transparent;border:1px solid currentColor;border-radius:.3em;padding:.2em .7em;margin-left:.5em;cursor:pointer}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.compact .i{padding-bottom:calc(var(--mk-gap,.75em)*.6)}
.compact .l{gap:calc(var(--mk-gap,.75em)*.6)}
[data-width=wide] .i{display:grid;grid-template-columns:minmax(0,1fr) auto;column-gap:1.5em}
[data-width=wide] .m{grid-column:2;grid-row:1;margin:0;justify-content:flex-end;text-align:right}
[data-width=wide] .s{grid-column:1}
[data-width=wide] .hd{font-size:1.35em}
.new{animation:mk-new 2.5s ease-out}
@keyframes mk-new{from{background-color:var(--_new)}}
@media (prefers-reduced-motion:reduce){.new{animation:none}}
@media (forced-colors:active){.i.imp,.i.crit{border-left-color:CanvasText}.bd{border:1px solid}}
`;
