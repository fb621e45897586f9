/**
 * The live protocol's frames as schemas, for the OpenAPI document (components.schemas): what a WebSocket client sends
 * (LiveClientFrame) and what both transports send (LiveServerFrame; on SSE, each event's `data:`). The live plugin
 * registers them with app.addSchema. The wire types are src/realtime/protocol.ts, and the rules
 * src/realtime/README.md; tests check real frames from real connections against these schemas, so they cannot drift
 * apart unnoticed.
 *
 * Why in the OpenAPI document and not an AsyncAPI file: one document, generated from code and validated in the test
 * suite, describes the REST API, both live routes and every frame, with the frames' `announcement` being the very
 * schema of the REST API's announcements. An AsyncAPI file would be a second, hand-written description of the same
 * messages, with its own validator, that nothing would keep in step with the code.
 */
import { type TSchema, Type } from 'typebox';
import { Announcement } from './announcements.js';
import { DateTime, Slug, Uuid } from './common.js';

const POSITION_PATTERN = '^(0|[1-9][0-9]{0,18})$';

const Position = (description: string) =>
  Type.String({ pattern: POSITION_PATTERN, description: `${description} (a decimal string: it may not fit a number)` });

const Channels = (description: string) => Type.Array(Slug, { description });

const ref = (id: string) => Type.Ref(id);

/** The `$id` every frame schema here is made with. */
const idOf = (schema: TSchema): string => (schema as { $id: string }).$id;

/** The announcement a frame carries: the REST API's announcement, in the connection's language. */
export const LiveAnnouncement = Type.Object(Announcement.properties, {
  $id: 'LiveAnnouncement',
  title: 'LiveAnnouncement',
  additionalProperties: false,
  description:
    "An announcement as the REST API returns it, in the connection's language (`language` says which version; " +
    '`rating` and `views` are absent: they would be stale at once)',
});

const positioned = {
  eventId: Position('Its position in the live log; keep the highest and resume from it (`since`, Last-Event-ID)'),
  channelId: Uuid,
  channel: Slug,
};

const frame = (id: string, description: string, properties: Record<string, TSchema>) =>
  Type.Object(properties, { $id: id, title: id, additionalProperties: false, description });

const serverFrames = [
  frame(
    'LiveSubscribedFrame',
    'Answers a subscription: the channels granted and those denied (unknown or unreadable)',
    {
      type: Type.Literal('subscribed'),
      channels: Channels('Now watched'),
      denied: Channels('Not watched: no such channel, or not readable by the caller (indistinguishable)'),
    },
  ),
  frame(
    'LiveUnsubscribedFrame',
    'Channels no longer watched: the answer to an unsubscribe (no reason), or taken away by the server',
    {
      type: Type.Literal('unsubscribed'),
      channels: Channels('No longer watched'),
      reason: Type.Optional(
        Type.Enum(['access', 'signed_out'], {
          description: 'access: may no longer read them; signed_out: the credentials ended (the connection closes)',
        }),
      ),
    },
  ),
  frame('LiveReplayedFrame', 'Ends a replay: every event after `since` in these channels was sent', {
    type: Type.Literal('replayed'),
    channels: Channels('The channels replayed'),
    count: Type.Integer({ minimum: 0, description: 'Events read for this replay' }),
  }),
  frame(
    'LiveResetFrame',
    'Instead of a replay that cannot be whole: reload these channels over REST and continue from `eventId`',
    {
      type: Type.Literal('reset'),
      channels: Channels('The channels to reload'),
      reason: Type.Enum(['too_old', 'unknown_position', 'too_many_events'], {
        description:
          'too_many_events: more than 500 to replay; too_old: `since` is older than the log; unknown_position: ' +
          '`since` is beyond its newest position',
      }),
      eventId: Position('The newest position when the log was read: resume from it'),
    },
  ),
  frame('LiveAnnouncementPublishedFrame', 'An announcement was published (add it; an upsert by announcement.id)', {
    type: Type.Literal('announcement.published'),
    ...positioned,
    announcement: ref('LiveAnnouncement'),
  }),
  frame('LiveAnnouncementUpdatedFrame', 'A published announcement was edited: replace it, or add it', {
    type: Type.Literal('announcement.updated'),
    ...positioned,
    material: Type.Boolean({ description: 'The publisher marked the edit as one readers must be told about' }),
    revision: Type.Integer({ minimum: 1, description: "The edit's revision" }),
    announcement: ref('LiveAnnouncement'),
  }),
  frame('LiveAnnouncementRetractedFrame', 'Remove the announcement', {
    type: Type.Literal('announcement.retracted'),
    ...positioned,
    announcementId: Uuid,
    reason: Type.Optional(
      Type.Literal('audience', { description: 'Not withdrawn: an edit took it out of this reader’s audience' }),
    ),
  }),
  frame('LiveReadChangedFrame', "The signed-in reader's read state changed, from any device (not positioned)", {
    type: Type.Literal('read.changed'),
    read: Type.Boolean({ description: 'true: marked read; false: marked unread' }),
    announcementIds: Type.Optional(Type.Array(Uuid, { description: 'The announcements marked (absent with `all`)' })),
    all: Type.Optional(
      Type.Literal(true, { description: 'Everything of `channel` (or, without it, of the feed) read' }),
    ),
    channel: Type.Optional(Slug),
  }),
  frame('LiveAcknowledgedFrame', 'The signed-in reader acknowledged an announcement, from any device', {
    type: Type.Literal('acknowledged'),
    announcementId: Uuid,
    channel: Slug,
    acknowledgedAt: DateTime,
  }),
  frame('LivePongFrame', 'Answers a ping', { type: Type.Literal('pong') }),
  frame(
    'LiveErrorFrame',
    'A frame could not be handled; replay_unavailable is followed by the end of the connection (reconnect later)',
    {
      type: Type.Literal('error'),
      code: Type.Enum(['bad_frame', 'too_many_channels', 'replay_unavailable', 'internal_error']),
      message: Type.String({ description: 'For people; may change' }),
    },
  ),
];

const clientFrames = [
  frame('LiveSubscribeFrame', 'Watch channels; with `since`, replay what was missed after that position first', {
    type: Type.Literal('subscribe'),
    channels: Type.Array(Slug, { minItems: 1, description: 'At most WS_MAX_CHANNELS_PER_SOCKET in all' }),
    since: Type.Optional(Position('The highest position received')),
  }),
  frame('LiveUnsubscribeFrame', 'Stop watching channels', {
    type: Type.Literal('unsubscribe'),
    channels: Type.Array(Slug, { minItems: 1 }),
  }),
  frame('LivePingFrame', 'Answered with pong (the server pings by itself too)', { type: Type.Literal('ping') }),
];

export const LiveServerFrame = Type.Union(
  serverFrames.map((f) => ref(idOf(f))),
  {
    $id: 'LiveServerFrame',
    title: 'LiveServerFrame',
    description:
      'A frame the server sends (WebSocket text message; SSE event data), told apart by `type`. Protocol: ' +
      'src/realtime/README.md',
  },
);

export const LiveClientFrame = Type.Union(
  clientFrames.map((f) => ref(idOf(f))),
  { $id: 'LiveClientFrame', title: 'LiveClientFrame', description: 'A frame a WebSocket client sends' },
);

/** Every frame schema, each with its `$id`, in an order app.addSchema accepts (referenced ones first). */
export const LIVE_FRAME_SCHEMAS: readonly TSchema[] = [
  LiveAnnouncement,
  ...serverFrames,
  ...clientFrames,
  LiveServerFrame,
  LiveClientFrame,
];
