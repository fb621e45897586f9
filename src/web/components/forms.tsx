/**
 * Form building blocks in Designsystemet's markup, linked for assistive technology on the server (label `for`,
 * `aria-describedby` to the description and the error, `aria-invalid`), so they work the same without the
 * designsystemet-web module. Errors come as FieldErrors keyed by field name; the ErrorSummary lists them with links
 * to their fields (WCAG 3.3.1), and each field shows its own.
 */
import type {
  ButtonHTMLAttributes,
  ComponentChildren,
  InputHTMLAttributes,
  PartialInputHTMLAttributes,
  SelectHTMLAttributes,
  TextareaHTMLAttributes,
} from 'preact';
import type { PageContext } from '../context.js';

/** Problems with a submitted form, by field name (the input's `name`); `''` for the form as a whole. */
export type FieldErrors = Readonly<Record<string, string>>;

/** The session's CSRF token as the hidden `_csrf` field every state-changing form of a signed-in viewer carries. */
export function CsrfField({ ctx }: { ctx: PageContext }) {
  if (!ctx.viewer) return null;
  return <input type="hidden" name="_csrf" value={ctx.viewer.csrfToken} />;
}

/** The id of a field's input, for labels, error links and tests. */
export function fieldId(name: string): string {
  return `field-${name.replace(/[^\w-]/g, '-')}`;
}

export function ErrorSummary({ ctx, errors }: { ctx: PageContext; errors: FieldErrors | undefined }) {
  const entries = Object.entries(errors ?? {});
  if (entries.length === 0) return null;
  return (
    <ds-error-summary class="ds-error-summary" data-testid="error-summary">
      <h2 class="ds-heading" data-size="xs" id="error-summary-heading" tabIndex={-1}>
        {ctx.t('form.errorSummary')}
      </h2>
      <ul class="ds-list">
        {entries.map(([name, message]) => (
          <li key={name}>
            {name ? (
              <a class="ds-link" href={`#${fieldId(name)}`}>
                {message}
              </a>
            ) : (
              message
            )}
          </li>
        ))}
      </ul>
    </ds-error-summary>
  );
}

interface FieldFrameProps {
  name: string;
  label: ComponentChildren;
  description?: ComponentChildren;
  error?: string | undefined;
  /** Mark the field optional in its label (required is the default in our forms, per Designsystemet's advice). */
  optional?: boolean;
  ctx: PageContext;
}

function describedBy(name: string, props: Pick<FieldFrameProps, 'description' | 'error'>): string | undefined {
  const ids = [props.description ? `${fieldId(name)}-description` : '', props.error ? `${fieldId(name)}-error` : '']
    .filter(Boolean)
    .join(' ');
  return ids || undefined;
}

function FieldFrame(props: FieldFrameProps & { children: ComponentChildren }) {
  const id = fieldId(props.name);
  return (
    <ds-field class="ds-field">
      <label class="ds-label" for={id} data-weight="medium">
        {props.label}
        {props.optional ? (
          <span class="ds-paragraph" data-size="sm">
            {' '}
            {props.ctx.t('form.optional')}
          </span>
        ) : null}
      </label>
      {props.description ? (
        <p class="ds-paragraph" data-size="sm" data-field="description" id={`${id}-description`}>
          {props.description}
        </p>
      ) : null}
      {props.children}
      {props.error ? (
        <p class="ds-validation-message" data-field="validation" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </ds-field>
  );
}

type InputAttributes = Omit<
  PartialInputHTMLAttributes<HTMLInputElement>,
  'name' | 'label' | 'id' | 'class' | 'value' | 'role'
>;

export function TextField(props: FieldFrameProps & { value?: string | undefined } & InputAttributes) {
  const { name, label, description, error, optional, ctx, value, ...input } = props;
  return (
    <FieldFrame name={name} label={label} description={description} error={error} optional={optional} ctx={ctx}>
      <input
        {...({
          class: 'ds-input',
          id: fieldId(name),
          name,
          value,
          required: !optional,
          'aria-describedby': describedBy(name, props),
          'aria-invalid': error ? true : undefined,
          ...input,
          // preact types each input `type` with the roles it allows; a field's type is the caller's choice here.
        } as InputHTMLAttributes<HTMLInputElement>)}
      />
    </FieldFrame>
  );
}

type TextAreaAttributes = Omit<
  TextareaHTMLAttributes<HTMLTextAreaElement>,
  'name' | 'label' | 'id' | 'class' | 'value' | 'role'
>;

export function TextArea(props: FieldFrameProps & { value?: string | undefined } & TextAreaAttributes) {
  const { name, label, description, error, optional, ctx, value, ...textarea } = props;
  return (
    <FieldFrame name={name} label={label} description={description} error={error} optional={optional} ctx={ctx}>
      <textarea
        class="ds-input"
        id={fieldId(name)}
        name={name}
        required={!optional}
        aria-describedby={describedBy(name, props)}
        aria-invalid={error ? true : undefined}
        {...textarea}
      >
        {value ?? ''}
      </textarea>
    </FieldFrame>
  );
}

export interface Choice {
  value: string;
  label: ComponentChildren;
}

export function SelectField(
  props: FieldFrameProps & { value?: string | undefined; choices: readonly Choice[] } & Omit<
      SelectHTMLAttributes<HTMLSelectElement>,
      'name' | 'label' | 'id' | 'class' | 'value' | 'role'
    >,
) {
  const { name, label, description, error, optional, ctx, value, choices, ...select } = props;
  return (
    <FieldFrame name={name} label={label} description={description} error={error} optional={optional} ctx={ctx}>
      <select
        class="ds-input"
        id={fieldId(name)}
        name={name}
        required={!optional}
        aria-describedby={describedBy(name, props)}
        aria-invalid={error ? true : undefined}
        {...select}
      >
        {choices.map((choice) => (
          <option key={choice.value} value={choice.value} selected={choice.value === value}>
            {choice.label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

/** Radio buttons or checkboxes in a fieldset with a legend (WCAG 1.3.1: the group has a name). */
export function ChoiceGroup(props: {
  ctx: PageContext;
  name: string;
  legend: ComponentChildren;
  description?: ComponentChildren;
  type: 'radio' | 'checkbox';
  choices: readonly Choice[];
  /** The chosen value(s). */
  value: string | readonly string[] | undefined;
  error?: string | undefined;
}) {
  const chosen = new Set(typeof props.value === 'string' ? [props.value] : (props.value ?? []));
  const id = fieldId(props.name);
  return (
    <fieldset
      class="ds-fieldset"
      id={id}
      aria-describedby={describedBy(props.name, props)}
      aria-invalid={props.error ? true : undefined}
    >
      <legend class="ds-label" data-weight="medium">
        {props.legend}
      </legend>
      {props.description ? (
        <p class="ds-paragraph" data-size="sm" id={`${id}-description`}>
          {props.description}
        </p>
      ) : null}
      {props.choices.map((choice) => (
        <ds-field class="ds-field" key={choice.value}>
          <input
            class="ds-input"
            type={props.type}
            id={`${id}-${choice.value}`}
            name={props.name}
            value={choice.value}
            checked={chosen.has(choice.value)}
          />
          <label class="ds-label" for={`${id}-${choice.value}`} data-weight="regular">
            {choice.label}
          </label>
        </ds-field>
      ))}
      {props.error ? (
        <p class="ds-validation-message" id={`${id}-error`}>
          {props.error}
        </p>
      ) : null}
    </fieldset>
  );
}

export function Button(
  props: { variant?: 'primary' | 'secondary' | 'tertiary'; children: ComponentChildren } & Omit<
    ButtonHTMLAttributes<HTMLButtonElement>,
    'class'
  >,
) {
  const { variant = 'primary', children, type = 'submit', ...rest } = props;
  return (
    <button class="ds-button" data-variant={variant} type={type} {...rest}>
      {children}
    </button>
  );
}

export function Alert(props: {
  color: 'info' | 'success' | 'warning' | 'danger';
  children: ComponentChildren;
  /** `status` for results of the visitor's own action (announced politely); none for static notices. */
  role?: 'status' | 'alert';
}) {
  return (
    <div class="ds-alert" data-color={props.color} role={props.role}>
      {props.children}
    </div>
  );
}
