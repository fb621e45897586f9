/** Vocabulary types shared by services, routes and workers. Mirrors the enums of prisma/schema.prisma. */
export const CHANNEL_VISIBILITIES = ['public', 'internal', 'restricted'] as const;
export type ChannelVisibility = (typeof CHANNEL_VISIBILITIES)[number];

export const CHANNEL_ROLES = ['owner', 'publisher'] as const;
export type ChannelRoleKind = (typeof CHANNEL_ROLES)[number];

export const IMPORTANCES = ['info', 'important', 'critical'] as const;
export type Importance = (typeof IMPORTANCES)[number];

export const EMAIL_MODES = ['immediate', 'daily', 'weekly', 'off'] as const;
export type EmailMode = (typeof EMAIL_MODES)[number];

export const LANGUAGES = ['nb', 'nn', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

export const TOKEN_SCOPES = ['read', 'publish', 'admin'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** Who is asking. `anonymous` has no user; every other actor was authenticated. */
export type Actor =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      userId: string;
      isAdmin: boolean;
      /** Set when the user belongs to a member organisation. */
      organisationId: string | null;
      /** Scopes of the API token used; a session (later) carries every scope the user has. */
      scopes: readonly TokenScope[];
    };

export const ANONYMOUS: Actor = Object.freeze({ kind: 'anonymous' });
