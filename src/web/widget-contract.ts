/**
 * The embeddable widget's public names and bounds, shared by the server (the snippet, the /widget.js route) and the
 * widget's bundle (src/web/client/widget/). No imports: everything here ends up in the bundle host pages load.
 */

/** The custom element (`<meldingskanal-feed channel="bott-sa">`). */
export const WIDGET_TAG = 'meldingskanal-feed';

/** The stable address of the widget's script (src/http/routes/web/widget.ts); it imports the fingerprinted bundle. */
export const WIDGET_SCRIPT_PATH = '/widget.js';

/** The most announcements a widget shows (`limit`), and how many when the attribute is missing. */
export const WIDGET_MAX_LIMIT = 20;
export const WIDGET_DEFAULT_LIMIT = 5;

/** The most channels one widget watches (`channel="a,b,…"`): each costs a request when it loads. */
export const WIDGET_MAX_CHANNELS = 10;
