/** Schemas of channel management: settings (PATCH) and roles. */
import { Type } from 'typebox';
import { CHANNEL_ROLES, CHANNEL_VISIBILITIES } from '../../domain/types.js';
import { DateTime, Slug, Text, Uuid } from './common.js';

export const UpdateChannelBody = Type.Object(
  {
    title: Type.Optional(Text.title({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Text.multiline({ maxLength: 2000 })),
    visibility: Type.Optional(
      Type.Enum([...CHANNEL_VISIBILITIES], {
        description:
          'public: anyone; internal: signed-in members of member organisations; restricted: channel members only',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1, description: 'The settings to change (at least one)' },
);

const RoleKind = Type.Enum([...CHANNEL_ROLES], {
  description: 'owner: manages the channel and publishes; publisher: publishes',
});

export const ChannelRole = Type.Object(
  {
    userId: Uuid,
    displayName: Type.String(),
    role: RoleKind,
    grantedAt: DateTime,
  },
  { additionalProperties: false, title: 'ChannelRole', description: "A person's role in a channel" },
);

export const ChannelRoleList = Type.Object(
  { items: Type.Array(ChannelRole) },
  { additionalProperties: false, description: "The channel's owners, then its publishers" },
);

export const ChannelRoleParams = Type.Object({ slug: Slug, userId: Uuid }, { additionalProperties: false });

export const PutChannelRoleBody = Type.Object({ role: RoleKind }, { additionalProperties: false });
