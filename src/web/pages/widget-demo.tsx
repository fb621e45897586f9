/**
 * The widget's demo page (development only): a mock intranet page that embeds `<meldingskanal-feed>` as an
 * intranet editor would — loaded through the stable /widget.js, in a wide column and in a narrow sidebar — and the
 * snippet to copy (widgetSnippet, the same the channel page offers).
 */
import type { PageContext } from '../context.js';
import { Layout, PageHeading } from '../layout.js';
import { WIDGET_SCRIPT_PATH } from '../widget-contract.js';

export interface WidgetDemoProps {
  ctx: PageContext;
  /** The channel shown (a public one), or undefined when there is none yet. */
  channel: string | undefined;
  snippet: string | undefined;
}

export function WidgetDemoPage({ ctx, channel, snippet }: WidgetDemoProps) {
  return (
    <Layout ctx={ctx} title={ctx.t('widgetDemo.title')} head={<script type="module" src={WIDGET_SCRIPT_PATH} />}>
      <PageHeading title={ctx.t('widgetDemo.title')} lead={ctx.t('widgetDemo.lead')} />
      <p class="ds-paragraph" data-size="sm">
        {ctx.t('widgetDemo.devOnly')}
      </p>
      {channel && snippet ? (
        <>
          <section class="mk-widget-demo" aria-labelledby="demo-intranet">
            <h2 class="ds-heading" data-size="sm" id="demo-intranet">
              {ctx.t('widgetDemo.intranetTitle')}
            </h2>
            <div class="mk-widget-demo__columns">
              <div>
                <h3 class="ds-heading" data-size="xs">
                  {ctx.t('widgetDemo.column')}
                </h3>
                <p class="ds-paragraph">{ctx.t('widgetDemo.intranetText')}</p>
                <meldingskanal-feed channel={channel} lang={ctx.language} limit="5" heading-level="4" />
              </div>
              <aside class="mk-widget-demo__sidebar" aria-labelledby="demo-sidebar">
                <h3 class="ds-heading" data-size="xs" id="demo-sidebar">
                  {ctx.t('widgetDemo.sidebar')}
                </h3>
                <meldingskanal-feed
                  channel={channel}
                  lang={ctx.language}
                  limit="3"
                  layout="compact"
                  heading-level="4"
                />
              </aside>
            </div>
          </section>
          <section class="mk-stack" aria-labelledby="demo-snippet">
            <h2 class="ds-heading" data-size="sm" id="demo-snippet">
              {ctx.t('widgetDemo.snippetHeading')}
            </h2>
            <p class="ds-paragraph" id="demo-snippet-text">
              {ctx.t('widgetDemo.snippetText')}
            </p>
            <textarea
              class="ds-input mk-snippet"
              readOnly
              rows={3}
              spellcheck={false}
              aria-labelledby="demo-snippet"
              aria-describedby="demo-snippet-text"
            >
              {snippet}
            </textarea>
          </section>
        </>
      ) : (
        <p class="ds-paragraph">{ctx.t('widgetDemo.noChannel')}</p>
      )}
    </Layout>
  );
}
