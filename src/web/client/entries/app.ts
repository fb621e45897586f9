/**
 * Loaded on every page (as a module, so after parsing and only in browsers that run modules): Designsystemet's
 * behaviour for the components our pages use — the error summary takes focus when a form comes back with errors,
 * fields connect their labels, descriptions and validation messages (the server already links them, so this only
 * adds the character counter and live state), fieldsets and the details polyfill. The pages work without it.
 * Page-specific behaviour (live feed, editor preview, push) is in separate entries, loaded by the pages that need
 * them. Only the parts used are imported: the whole package would be three times the size.
 */
import '@digdir/designsystemet-web/ds-error-summary';
import '@digdir/designsystemet-web/ds-field';
import '@digdir/designsystemet-web/fieldset';
import '@digdir/designsystemet-web/details';
