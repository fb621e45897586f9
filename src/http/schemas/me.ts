import { Type } from 'typebox';
import { Uuid } from './common.js';

export const Me = Type.Object(
  {
    id: Uuid,
    displayName: Type.String(),
    principalName: Type.Union([Type.String(), Type.Null()], {
      description: 'Feide user id (eduPersonPrincipalName, e.g. ola@uio.no); null when the provider gave none',
    }),
    organisationCode: Type.Union([Type.String(), Type.Null()], {
      description:
        "Code of the member organisation (UiB, UiO, UiT, NTNU…) matched by the user id's realm; null for users " +
        'outside the member organisations, who get what anonymous readers get plus their own subscriptions',
    }),
    isAdmin: Type.Boolean(),
    authMethod: Type.Enum(['session', 'token'], {
      description: 'session: the browser sign-in cookie; token: an API token (Authorization: Bearer)',
    }),
    csrfToken: Type.Optional(
      Type.String({
        description:
          'Session-authenticated requests only: send it as the x-csrf-token header on state-changing requests',
      }),
    ),
  },
  { additionalProperties: false, title: 'Me', description: 'The signed-in user' },
);
