/**
 * The custom elements our templates render, for preact's JSX types: Designsystemet's (enhanced by
 * @digdir/designsystemet-web when its module loads; plain containers without it) and the widget's own.
 */
import type { HTMLAttributes } from 'preact';

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      'ds-field': HTMLAttributes<HTMLElement>;
      'ds-error-summary': HTMLAttributes<HTMLElement>;
      'ds-tabs': HTMLAttributes<HTMLElement>;
      'ds-pagination': HTMLAttributes<HTMLElement>;
      'ds-breadcrumbs': HTMLAttributes<HTMLElement>;
      'meldingskanal-feed': HTMLAttributes<HTMLElement> & {
        channel?: string;
        limit?: string | number;
        importance?: string;
        layout?: string;
        theme?: string;
        heading?: string;
        'heading-level'?: string | number;
        transport?: string;
      };
    }
  }
}
