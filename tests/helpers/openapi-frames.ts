/**
 * Validates values against a schema of the OpenAPI document (components.schemas), the document being JSON Schema
 * 2020-12 in OpenAPI 3.1: for checking what the server really sends against what the document promises.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/** A function returning the validation errors of a value against `components.schemas[name]` (none: `[]`). */
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document walked generically
export function validatorOfDocument(document: any, name: string): (value: unknown) => string[] {
  // strict: false, for the OpenAPI keywords and extensions (`x-text`) that are not JSON Schema's.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi.json', components: document.components });
  const validate = ajv.getSchema(`openapi.json#/components/schemas/${name}`);
  if (!validate) throw new Error(`components.schemas.${name} is not in the document`);
  return (value) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
  };
}
