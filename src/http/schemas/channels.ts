import { Type } from 'typebox';
import { CHANNEL_VISIBILITIES } from '../../domain/types.js';
import { DateTime, Page, Slug, Text, Uuid } from './common.js';

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
    // A title of blanks (or invisible characters) only is no title: Text refuses it.
    title: Text.title({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Text.multiline({ maxLength: 2000 })),
    visibility: Type.Optional(Visibility),
  },
  { additionalProperties: false },
);

export const ChannelParams = Type.Object({ slug: Slug }, { additionalProperties: false });
