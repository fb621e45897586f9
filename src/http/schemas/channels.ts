import { Type } from 'typebox';
import { CHANNEL_VISIBILITIES } from '../../domain/types.js';
import { DateTime, Page, Slug, Uuid } from './common.js';

const Visibility = Type.Enum([...CHANNEL_VISIBILITIES], {
  description: 'public: anyone; internal: signed-in members of member organisations; restricted: channel members only',
});

export const Channel = Type.Object(
  {
    id: Uuid,
    slug: Slug,
    title: Type.String(),
    description: Type.String(),
    visibility: Visibility,
    createdAt: DateTime,
  },
  { additionalProperties: false, title: 'Channel', description: 'A channel' },
);

export const ChannelPage = Page(Channel, 'Channels the caller may read, by slug');

export const CreateChannelBody = Type.Object(
  {
    slug: Slug,
    // "\S": a title of blanks only is no title.
    title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false },
);

export const ChannelParams = Type.Object({ slug: Slug }, { additionalProperties: false });
