/** Schemas of the member-organisation table. */
import { Type } from 'typebox';
import { Text } from './common.js';

const Code = Text.identifier({
  minLength: 1,
  maxLength: 32,
  description: 'Short name, the permanent key: letters, digits, hyphens, starting with a letter',
  examples: ['UiB'],
});
const Name = Text.title({ minLength: 1, maxLength: 200 });
const Realm = Text.identifier({
  minLength: 1,
  maxLength: 253,
  description: 'The Feide realm of its users (the part after @ in their user id); stored lower-case',
  examples: ['uib.no'],
});

export const Organisation = Type.Object(
  { code: Code, name: Type.String(), realm: Type.String() },
  { additionalProperties: false, title: 'Organisation', description: 'A member organisation' },
);

export const OrganisationList = Type.Object(
  { items: Type.Array(Organisation) },
  { additionalProperties: false, description: 'Every member organisation, by code' },
);

export const CreateOrganisationBody = Type.Object(
  { code: Code, name: Name, realm: Realm },
  { additionalProperties: false },
);

export const UpdateOrganisationBody = Type.Object(
  { name: Type.Optional(Name), realm: Type.Optional(Realm) },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change (at least one)' },
);

export const OrganisationParams = Type.Object({ code: Code }, { additionalProperties: false });
