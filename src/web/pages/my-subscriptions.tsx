/**
 * My subscriptions (/me/subscriptions): one form with a fieldset per channel — e-mail mode (immediately, daily,
 * weekly, off), the language of its e-mails and notifications, and web push — saved together, and a button per
 * channel to leave it. Field names carry the channel (`emailMode.<slug>`), so every field has its own id and error.
 *
 * Web push needs the browser's permission and a service worker, which only JavaScript can ask for: the section on
 * top is rendered with every state's text hidden, and entries/push.ts shows the one that applies, asks for
 * permission, registers /sw.js and the subscription (POST /api/v1/me/push-subscriptions). Without JavaScript it
 * says so; the per-channel push choice is saved either way.
 */
import { EMAIL_MODES, LANGUAGES } from '../../domain/types.js';
import type { SubscriptionView } from '../../services/views.js';
import { Alert, Button, CsrfField, ErrorSummary, type FieldErrors, fieldId, SelectField } from '../components/forms.js';
import type { PageContext } from '../context.js';
import type { MessageKey } from '../i18n/catalogue.js';
import { Layout, PageHeading } from '../layout.js';
import { WEB_PATHS } from '../paths.js';
import { EMAIL_MODE_LABEL } from './channel.js';

export const SUBSCRIPTIONS_DONE = ['saved', 'unsubscribed'] as const;
export type SubscriptionsDone = (typeof SUBSCRIPTIONS_DONE)[number];

const DONE_MESSAGE: Record<SubscriptionsDone, MessageKey> = {
  saved: 'subscriptions.saved',
  unsubscribed: 'subscriptions.removed',
};

export interface MySubscriptionsPageProps {
  ctx: PageContext;
  subscriptions: readonly (SubscriptionView & { channelTitle: string })[];
  /** Whether this server sends web push at all (VAPID keys configured). */
  pushAvailable: boolean;
  /** Browsers registered for push. */
  pushBrowsers: number;
  done?: SubscriptionsDone | undefined;
  /** The form as submitted (400): values by field name. */
  submitted?: Readonly<Record<string, string>> | undefined;
  errors?: FieldErrors | undefined;
}

/** The form's field names for one channel. */
export const subscriptionField = {
  emailMode: (slug: string) => `emailMode.${slug}`,
  language: (slug: string) => `language.${slug}`,
  push: (slug: string) => `push.${slug}`,
};

export function MySubscriptionsPage(props: MySubscriptionsPageProps) {
  const { ctx } = props;
  return (
    <Layout
      ctx={ctx}
      title={ctx.t('subscriptions.title')}
      current="subscriptions"
      scripts={props.pushAvailable ? ['entries/push.js'] : []}
    >
      {props.done ? (
        <Alert color="success" role="status">
          {ctx.t(DONE_MESSAGE[props.done])}
        </Alert>
      ) : null}
      <ErrorSummary ctx={ctx} errors={props.errors} />
      <PageHeading title={ctx.t('subscriptions.title')} lead={ctx.t('subscriptions.lead')} />
      <PushSection {...props} />
      {props.subscriptions.length === 0 ? (
        <p class="ds-paragraph">
          {ctx.t('subscriptions.none')}{' '}
          <a class="ds-link" href={WEB_PATHS.channels}>
            {ctx.t('nav.channels')}
          </a>
        </p>
      ) : (
        <form method="post" action={WEB_PATHS.mySubscriptions} class="mk-stack">
          <CsrfField ctx={ctx} />
          {props.subscriptions.map((subscription) => (
            <SubscriptionFieldset key={subscription.channel} {...props} subscription={subscription} />
          ))}
          <div>
            <Button name="action" value="save">
              {ctx.t('subscriptions.save')}
            </Button>
          </div>
        </form>
      )}
    </Layout>
  );
}

function SubscriptionFieldset(
  props: MySubscriptionsPageProps & { subscription: SubscriptionView & { channelTitle: string } },
) {
  const { ctx, subscription } = props;
  const slug = subscription.channel;
  const value = (name: string, saved: string) => props.submitted?.[name] ?? saved;
  const pushName = subscriptionField.push(slug);
  const pushChecked = props.submitted ? props.submitted[pushName] === 'on' : subscription.push;
  return (
    <fieldset class="ds-fieldset ds-card mk-stack mk-subscription" data-variant="tinted">
      <legend class="ds-heading" data-size="xs">
        {subscription.channelTitle}
      </legend>
      <p class="ds-paragraph" data-size="sm">
        <a class="ds-link" href={WEB_PATHS.channel(slug)}>
          {ctx.t('subscriptions.openChannel', { channel: subscription.channelTitle })}
        </a>
      </p>
      <div class="mk-filters">
        <SelectField
          ctx={ctx}
          name={subscriptionField.emailMode(slug)}
          label={ctx.t('emailMode.legend')}
          value={value(subscriptionField.emailMode(slug), subscription.emailMode)}
          choices={EMAIL_MODES.map((mode) => ({ value: mode, label: ctx.t(EMAIL_MODE_LABEL[mode]) }))}
          error={props.errors?.[subscriptionField.emailMode(slug)]}
        />
        <SelectField
          ctx={ctx}
          name={subscriptionField.language(slug)}
          label={ctx.t('subscriptions.language')}
          value={value(subscriptionField.language(slug), subscription.language)}
          choices={LANGUAGES.map((language) => ({ value: language, label: ctx.t(`language.${language}`) }))}
          error={props.errors?.[subscriptionField.language(slug)]}
        />
      </div>
      <ds-field class="ds-field">
        <input
          class="ds-input"
          type="checkbox"
          id={fieldId(pushName)}
          name={pushName}
          value="on"
          checked={pushChecked}
        />
        <label class="ds-label" for={fieldId(pushName)} data-weight="regular">
          {ctx.t('subscriptions.push')}
        </label>
      </ds-field>
      <div>
        <Button variant="secondary" name="unsubscribe" value={slug}>
          {ctx.t('subscriptions.unsubscribe', { channel: subscription.channelTitle })}
        </Button>
      </div>
    </fieldset>
  );
}

/** One paragraph per state; the server shows the no-script one, entries/push.ts the one that applies. */
function PushSection(props: MySubscriptionsPageProps) {
  const { ctx } = props;
  return (
    <section aria-labelledby="push-heading" class="mk-stack" data-push>
      <h2 class="ds-heading" data-size="sm" id="push-heading">
        {ctx.t('push.heading')}
      </h2>
      <p class="ds-paragraph">{ctx.t('push.text')}</p>
      {props.pushAvailable ? (
        <>
          <p class="ds-paragraph" data-push-state="no-script">
            {ctx.t('push.noScript')}
          </p>
          <p class="ds-paragraph" data-push-state="unsupported" hidden>
            {ctx.t('push.unsupported')}
          </p>
          <p class="ds-paragraph" data-push-state="denied" hidden>
            {ctx.t('push.denied')}
          </p>
          <p class="ds-paragraph" data-push-state="enabled" hidden>
            {ctx.t('push.enabled')}
          </p>
          <p class="ds-paragraph" data-push-state="failed" hidden>
            {ctx.t('push.failed')}
          </p>
          <p data-push-state="ask" hidden>
            <button class="ds-button" data-variant="secondary" type="button" data-push-enable>
              {ctx.t('push.enable')}
            </button>
          </p>
          <p class="mk-meta">{ctx.t('push.browsers', { count: props.pushBrowsers })}</p>
        </>
      ) : (
        <p class="ds-paragraph">{ctx.t('push.disabled')}</p>
      )}
    </section>
  );
}
