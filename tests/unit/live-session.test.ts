/**
 * LiveSession's rules with a fake transport, hub and look-ups: ordering, de-duplication, replay and reset, limits,
 * heartbeats (answered or not), reader frames, and who is sent what (audience, editors, language).
 */

import { describe, expect, it } from 'vitest';
import type { ChannelFacts } from '../../src/domain/access.js';
import type { Actor, Language } from '../../src/domain/types.js';
import type { LiveListener } from '../../src/realtime/hub.js';
import { type EncodedFrame, EventFrames, encodedFrameOf, type LiveEvent } from '../../src/realtime/protocol.js';
import {
  type GrantedChannel,
  LiveSession,
  type LiveTransport,
  RECENT_IDS,
  type SessionLimits,
  type SessionPorts,
} from '../../src/realtime/session.js';
import { sampleAnnouncementView } from '../helpers/announcement-view.js';

class FakeSocket implements LiveTransport {
  isOpen = true;
  bufferedAmount = 0;
  sent: Record<string, unknown>[] = [];
  /** The EncodedFrames as handed over (to check their sharing and positions). */
  raw: EncodedFrame[] = [];
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;
  pings = 0;
  constructor(readonly answersHeartbeats = true) {}
  send(frame: EncodedFrame) {
    this.raw.push(frame);
    this.sent.push(JSON.parse(frame.json));
  }
  close(code: number, reason: string) {
    this.closedWith = { code, reason };
    this.isOpen = false;
  }
  terminate() {
    this.terminated = true;
    this.isOpen = false;
  }
  heartbeat() {
    this.pings += 1;
  }
  types() {
    return this.sent.map((f) => f.type);
  }
  eventIds() {
    return this.sent.filter((f) => f.type === 'announcement.published').map((f) => f.eventId);
  }
  /** Every announcement event sent (published, updated, retracted), by id. */
  allEventIds() {
    return this.sent.filter((f) => String(f.type).startsWith('announcement.')).map((f) => f.eventId);
  }
}

/**
 * A transport that batches writes like the real ones: frames written in a batch count as unsent until the batch ends
 * or is flushed, when a client that reads takes them all (one that does not leaves them unsent).
 */
class BatchingSocket extends FakeSocket {
  reads = true;
  flushes = 0;
  /** The frame types written in each batch. */
  batches: string[][] = [];
  private current: string[] | undefined;
  private held = 0;
  override send(frame: EncodedFrame) {
    super.send(frame);
    if (!this.current) return;
    this.current.push(JSON.parse(frame.json).type);
    this.held += frame.json.length;
    this.bufferedAmount += frame.json.length;
  }
  batch(write: (flush: () => void) => void) {
    this.current = [];
    try {
      write(() => this.handOver());
    } finally {
      this.handOver();
      this.batches.push(this.current);
      this.current = undefined;
    }
  }
  private handOver() {
    this.flushes += 1;
    if (this.reads) this.bufferedAmount -= this.held;
    this.held = 0;
  }
}

class FakeHub {
  readonly watching = new Map<LiveListener, Set<string>>();
  connect(listener: LiveListener) {
    if (!this.watching.has(listener)) this.watching.set(listener, new Set());
  }
  disconnect(listener: LiveListener) {
    this.watching.delete(listener);
  }
  watch(listener: LiveListener, channelId: string) {
    this.connect(listener);
    const set = this.watching.get(listener)!;
    const added = !set.has(channelId);
    set.add(channelId);
    return added;
  }
  unwatch(listener: LiveListener, channelId: string) {
    this.watching.get(listener)?.delete(channelId);
  }
}

const CHANNELS: Record<string, string> = { alpha: 'id-alpha', beta: 'id-beta', gamma: 'id-gamma', delta: 'id-delta' };

function event(id: number, slug = 'alpha', audienceOrganisationIds: string[] = []): LiveEvent {
  return {
    eventId: String(id),
    type: 'announcement.published',
    channelId: CHANNELS[slug]!,
    channel: slug,
    audienceOrganisationIds,
    announcements: [
      sampleAnnouncementView({
        id: `a-${id}`,
        channel: slug,
        title: `t${id}`,
        body: 'b',
        bodyHtml: '<p>b</p>\n',
        publishedAt: null,
        url: `http://x/${id}`,
      }),
    ],
  };
}

const UIO = 'org-uio';
const NTNU = 'org-ntnu';
const member = (organisationId: string | null, isAdmin = false): Actor => ({
  kind: 'user',
  userId: `user-${organisationId}`,
  isAdmin,
  organisationId,
  scopes: ['read'],
});

const limits: SessionLimits = {
  maxChannels: 3,
  maxBufferedBytes: 10_000_000,
  maxBadFrames: 2,
  maxQueuedFrames: 10,
  maxHeldEvents: 100,
};

function setup(
  options: {
    since?: string;
    replay?: SessionPorts['replay'];
    readable?: string[];
    actor?: Actor;
    language?: Language | null;
    /** The actor's role per channel slug (default none). */
    roles?: Record<string, ChannelFacts['role']>;
    /** false: a transport like an event stream, whose heartbeats get no answer. */
    answersHeartbeats?: boolean;
    limits?: Partial<SessionLimits>;
    socket?: FakeSocket;
  } = {},
) {
  const socket = options.socket ?? new FakeSocket(options.answersHeartbeats ?? true);
  const hub = new FakeHub();
  const readable = options.readable ?? Object.keys(CHANNELS);
  const ports: SessionPorts = {
    hub,
    log: { warn() {}, debug() {} },
    async resolveChannels(slugs) {
      const granted: GrantedChannel[] = slugs
        .filter((s) => readable.includes(s))
        .map((slug) => ({ id: CHANNELS[slug]!, slug, visibility: 'public', role: options.roles?.[slug] ?? null }));
      return { granted, denied: slugs.filter((s) => !readable.includes(s)) };
    },
    replay: options.replay ?? (async () => ({ kind: 'replay', events: [] })),
  };
  const viewer = { actor: options.actor ?? { kind: 'anonymous' as const }, language: options.language ?? null };
  const session = new LiveSession(socket, ports, { ...limits, ...options.limits }, viewer, options.since);
  const send = async (frame: unknown) => {
    session.receive(Buffer.from(typeof frame === 'string' ? frame : JSON.stringify(frame)), false);
    await session.settled();
  };
  const deliver = (e: LiveEvent | EventFrames) => {
    const frames = e instanceof EventFrames ? e : new EventFrames(e);
    session.deliver(frames.event, frames);
  };
  return { socket, hub, session, send, deliver };
}

/** deliver()'s arguments for an event, as the hub passes them. */
function pair(e: LiveEvent): [LiveEvent, EventFrames] {
  const frames = new EventFrames(e);
  return [frames.event, frames];
}

describe('LiveSession', () => {
  it('acknowledges a subscribe, reporting unreadable channels as denied, and watches only the granted ones', async () => {
    const { socket, hub, session, send } = setup({ readable: ['alpha'] });
    await send({ type: 'subscribe', channels: ['alpha', 'secret'] });
    expect(socket.sent).toEqual([{ type: 'subscribed', channels: ['alpha'], denied: ['secret'] }]);
    expect([...hub.watching.get(session)!]).toEqual(['id-alpha']);
  });

  it('answers ping with pong', async () => {
    const { socket, send } = setup();
    await send({ type: 'ping' });
    expect(socket.sent).toEqual([{ type: 'pong' }]);
  });

  it('forwards each live event once, in arrival order; a late lower id is delivered, not lost', async () => {
    const { socket, send, deliver } = setup();
    await send({ type: 'subscribe', channels: ['alpha'] });
    deliver(event(5));
    deliver(event(5));
    deliver(event(4));
    deliver(event(6));
    deliver(event(4));
    expect(socket.eventIds()).toEqual(['5', '4', '6']);
  });

  it('writes a run of events from the hub as one batch, with the same de-duplication as one by one', async () => {
    const socket = new BatchingSocket();
    const { session, send } = setup({ socket });
    await send({ type: 'subscribe', channels: ['alpha'] });
    session.deliver(...pair(event(7)));
    session.deliverAll([event(8), event(7), event(9), event(10, 'beta')].map((e) => new EventFrames(e)));
    expect(socket.eventIds()).toEqual(['7', '8', '9']);
    // The subscribe's acknowledgement and event 7 were written on their own; 8 and 9 in one batch.
    expect(socket.batches).toEqual([['announcement.published', 'announcement.published']]);
  });

  it('remembers a bounded window of ids', async () => {
    const { socket, send, deliver } = setup();
    await send({ type: 'subscribe', channels: ['alpha'] });
    for (let id = 1; id <= RECENT_IDS + 1; id++) deliver(event(id));
    deliver(event(RECENT_IDS + 1));
    deliver(event(1));
    expect(socket.eventIds().length).toBe(RECENT_IDS + 2);
    expect(socket.eventIds().at(-1)).toBe('1');
  });

  it('counts channels across frames against the limit', async () => {
    const { socket, hub, session, send } = setup();
    await send({ type: 'subscribe', channels: ['alpha', 'beta'] });
    await send({ type: 'subscribe', channels: ['gamma', 'delta'] });
    expect(socket.sent[1]).toMatchObject({ type: 'error', code: 'too_many_channels' });
    expect(hub.watching.get(session)!.size).toBe(2);
    // Re-subscribing to a watched channel costs nothing.
    await send({ type: 'subscribe', channels: ['alpha', 'gamma'] });
    expect(socket.sent[2]).toEqual({ type: 'subscribed', channels: ['alpha', 'gamma'], denied: [] });
  });

  it('unsubscribes', async () => {
    const { socket, hub, session, send } = setup();
    await send({ type: 'subscribe', channels: ['alpha', 'beta'] });
    await send({ type: 'unsubscribe', channels: ['alpha'] });
    expect(socket.sent[1]).toEqual({ type: 'unsubscribed', channels: ['alpha'] });
    expect([...hub.watching.get(session)!]).toEqual(['id-beta']);
  });

  it('revokes channels it may no longer read: says so, unwatches, and drops their events even if still handed one', async () => {
    const { socket, hub, session, send, deliver } = setup();
    await send({ type: 'subscribe', channels: ['alpha', 'beta'] });
    expect(session.watched()).toEqual([
      { slug: 'alpha', id: 'id-alpha' },
      { slug: 'beta', id: 'id-beta' },
    ]);
    session.revoke(['alpha', 'gamma'], 'access');
    expect(socket.sent.at(-1)).toEqual({ type: 'unsubscribed', channels: ['alpha'], reason: 'access' });
    expect([...hub.watching.get(session)!]).toEqual(['id-beta']);
    // The hub fans out to a snapshot of listeners: an event already on its way must not get through.
    deliver(event(1, 'alpha'));
    deliver(event(2, 'beta'));
    expect(socket.eventIds()).toEqual(['2']);
    // Revoking what is not watched sends nothing.
    const sent = socket.sent.length;
    session.revoke(['alpha'], 'access');
    expect(socket.sent.length).toBe(sent);
  });

  it('ends on lost credentials: lists every channel as signed_out, then closes with 4401', async () => {
    const { socket, hub, session, send } = setup();
    await send({ type: 'subscribe', channels: ['alpha', 'beta'] });
    session.endCredentials();
    expect(socket.sent.at(-1)).toEqual({ type: 'unsubscribed', channels: ['alpha', 'beta'], reason: 'signed_out' });
    expect(socket.closedWith?.code).toBe(4401);
    expect(hub.watching.has(session)).toBe(false);
  });

  it('does not send replayed events of a channel revoked while the replay was read', async () => {
    let session: LiveSession | undefined;
    const {
      socket,
      send,
      session: created,
    } = setup({
      replay: async () => {
        session!.revoke(['beta'], 'access');
        return { kind: 'replay', events: [event(11, 'alpha'), event(12, 'beta')] };
      },
    });
    session = created;
    await send({ type: 'subscribe', channels: ['alpha', 'beta'], since: '10' });
    expect(socket.eventIds()).toEqual(['11']);
  });

  it('merges a replay with live events that arrive meanwhile: sorted, without repeats, then `replayed`', async () => {
    let deliverDuringReplay: () => void = () => {};
    const { socket, send, deliver } = setup({
      replay: async (channelIds, since) => {
        expect(channelIds).toEqual(['id-alpha']);
        expect(since).toBe(10n);
        deliverDuringReplay();
        return { kind: 'replay', events: [event(11), event(12), event(13)] };
      },
    });
    // While the replay is read, event 13 (also in the replay) and 14 arrive live.
    deliverDuringReplay = () => {
      deliver(event(14));
      deliver(event(13));
    };
    await send({ type: 'subscribe', channels: ['alpha'], since: '10' });
    expect(socket.types()[0]).toBe('subscribed');
    expect(socket.eventIds()).toEqual(['11', '12', '13', '14']);
    expect(socket.sent.at(-1)).toEqual({ type: 'replayed', channels: ['alpha'], count: 3 });
    // After the replay, a late repeat of a replayed event is dropped.
    deliver(event(12));
    deliver(event(15));
    expect(socket.eventIds()).toEqual(['11', '12', '13', '14', '15']);
  });

  it('takes `since` from the URL for the first subscribe, and treats it as already received', async () => {
    const seen: bigint[] = [];
    const { socket, send, deliver } = setup({
      since: '20',
      replay: async (_ids, since) => {
        seen.push(since);
        return { kind: 'replay', events: [event(21)] };
      },
    });
    await send({ type: 'subscribe', channels: ['alpha'] });
    expect(seen).toEqual([20n]);
    expect(socket.sent.at(-1)).toEqual({ type: 'replayed', channels: ['alpha'], count: 1 });
    deliver(event(19));
    deliver(event(22));
    expect(socket.eventIds()).toEqual(['21', '22']);
    // The second subscribe frame has no since of its own: no replay.
    await send({ type: 'subscribe', channels: ['beta'] });
    expect(seen).toEqual([20n]);
  });

  it('reports a failed replay and closes with 1013, without the live events held meanwhile (they would skip the gap)', async () => {
    let deliverDuringReplay: () => void = () => {};
    const { socket, hub, session, send, deliver } = setup({
      replay: async () => {
        deliverDuringReplay();
        throw new Error('database down');
      },
    });
    deliverDuringReplay = () => deliver(event(30));
    await send({ type: 'subscribe', channels: ['alpha'], since: '1' });
    expect(socket.types()).toEqual(['subscribed', 'error']);
    expect(socket.sent[1]).toMatchObject({ code: 'replay_unavailable' });
    expect(socket.closedWith?.code).toBe(1013);
    expect(hub.watching.has(session)).toBe(false);
  });

  it('sends reset instead of a replay that cannot be whole, then the held live events after its position', async () => {
    let deliverDuringReplay: () => void = () => {};
    const { socket, send, deliver } = setup({
      replay: async () => {
        deliverDuringReplay();
        return { kind: 'reset', reason: 'too_many_events', head: 600n };
      },
    });
    // Held while the log was read: 599 and 600 are in what REST will show; 601 is not.
    deliverDuringReplay = () => {
      deliver(event(601));
      deliver(event(599));
      deliver(event(600));
    };
    await send({ type: 'subscribe', channels: ['alpha', 'beta'], since: '10' });
    expect(socket.sent.slice(1)).toEqual([
      { type: 'reset', channels: ['alpha', 'beta'], reason: 'too_many_events', eventId: '600' },
      expect.objectContaining({ type: 'announcement.published', eventId: '601' }),
    ]);
    // The reset carries its position (SSE sends it as `id:`), like announcement frames.
    expect(socket.raw.map((frame) => frame.eventId)).toEqual([undefined, '600', '601']);
    deliver(event(602));
    expect(socket.eventIds()).toEqual(['601', '602']);
  });

  it('after a reset for an unknown position, delivers live events above the head although below that since', async () => {
    const { socket, send, deliver } = setup({
      since: '5000',
      replay: async () => ({ kind: 'reset', reason: 'unknown_position', head: 40n }),
    });
    await send({ type: 'subscribe', channels: ['alpha'] });
    expect(socket.sent[1]).toEqual({ type: 'reset', channels: ['alpha'], reason: 'unknown_position', eventId: '40' });
    deliver(event(40));
    deliver(event(41));
    expect(socket.eventIds()).toEqual(['41']);
  });

  it('subscribes on request (an event stream states its channels in its URL), with the URL since', async () => {
    const seen: bigint[] = [];
    const { socket, hub, session } = setup({
      since: '7',
      readable: ['alpha'],
      replay: async (_ids, since) => {
        seen.push(since);
        return { kind: 'replay', events: [event(8)] };
      },
    });
    session.request({ type: 'subscribe', channels: ['alpha', 'secret'] });
    await session.settled();
    expect(socket.types()).toEqual(['subscribed', 'announcement.published', 'replayed']);
    expect(socket.sent[0]).toEqual({ type: 'subscribed', channels: ['alpha'], denied: ['secret'] });
    expect(seen).toEqual([7n]);
    expect([...hub.watching.get(session)!]).toEqual(['id-alpha']);
  });

  it('sends reader frames as they come, also while a replay is read', async () => {
    let duringReplay: () => void = () => {};
    const { socket, session, send } = setup({
      replay: async () => {
        duringReplay();
        return { kind: 'replay', events: [event(3)] };
      },
    });
    const frame = encodedFrameOf({ type: 'read.changed', read: true, announcementIds: ['a-1'], channel: 'alpha' });
    duringReplay = () => session.deliverReaderFrame(frame);
    await send({ type: 'subscribe', channels: ['alpha'], since: '1' });
    expect(socket.types()).toEqual(['subscribed', 'read.changed', 'announcement.published', 'replayed']);
    expect(socket.raw[1]).toBe(frame);
    expect(frame.eventId).toBeUndefined();
  });

  it('answers malformed frames with bad_frame, then closes with 1008 when they keep coming', async () => {
    const { socket, hub, session, send } = setup();
    await send('not json');
    session.receive(Buffer.from('{}'), true);
    await session.settled();
    expect(socket.sent.map((f) => f.code)).toEqual(['bad_frame', 'bad_frame']);
    expect(socket.closedWith).toBeUndefined();
    await send('{"type":"nope"}');
    expect(socket.closedWith?.code).toBe(1008);
    expect(hub.watching.has(session)).toBe(false);
  });

  it('closes with 1013 instead of buffering for a client that does not read', async () => {
    const { socket, hub, session, send, deliver } = setup();
    await send({ type: 'subscribe', channels: ['alpha'] });
    socket.bufferedAmount = 9_999_990;
    deliver(event(1));
    expect(socket.closedWith?.code).toBe(1013);
    expect(socket.eventIds()).toEqual([]);
    expect(hub.watching.has(session)).toBe(false);
  });

  it('sends a frame larger than the limit to a connection with nothing unsent, and cuts one that has some', async () => {
    const idle = setup({ limits: { maxBufferedBytes: 100 } });
    const busy = setup({ limits: { maxBufferedBytes: 100 } });
    for (const { session, socket } of [idle, busy]) {
      session.request({ type: 'subscribe', channels: ['alpha'] });
      await session.settled();
      socket.bufferedAmount = socket === busy.socket ? 1 : 0;
    }
    idle.deliver(event(1));
    busy.deliver(event(1));
    expect(idle.socket.eventIds()).toEqual(['1']);
    expect(busy.socket.closedWith?.code).toBe(1013);
  });

  it('pings, and terminates a socket that missed the previous pong', () => {
    const { socket, session } = setup();
    expect(session.heartbeat()).toBe(true);
    expect(socket.pings).toBe(1);
    session.markAlive();
    expect(session.heartbeat()).toBe(true);
    expect(socket.pings).toBe(2);
    expect(session.heartbeat()).toBe(false);
    expect(socket.terminated).toBe(true);
  });

  it('keeps beating on a transport that cannot answer, and cuts it off once unsent data piles up', () => {
    const { socket, session } = setup({ answersHeartbeats: false });
    for (let i = 0; i < 3; i++) expect(session.heartbeat()).toBe(true);
    expect(socket.pings).toBe(3);
    expect(socket.terminated).toBe(false);
    socket.bufferedAmount = limits.maxBufferedBytes + 1;
    expect(session.heartbeat()).toBe(false);
    expect(socket.closedWith?.code).toBe(1013);
    expect(socket.pings).toBe(3);
  });

  it('closes with 1008 when frames pile up faster than they are handled', () => {
    const { socket, session } = setup();
    for (let i = 0; i <= limits.maxQueuedFrames; i++) session.receive(Buffer.from('{"type":"ping"}'), false);
    expect(socket.closedWith?.code).toBe(1008);
  });
});

describe('LiveSession: who is sent what', () => {
  /** An event with an nb original and an en translation. */
  function bilingual(id: number, audience: string[] = []): LiveEvent {
    const base = { id: `a-${id}`, channel: 'alpha', url: `http://x/${id}`, languages: ['nb', 'en'] as Language[] };
    return {
      ...event(id, 'alpha', audience),
      announcements: [
        sampleAnnouncementView({ ...base, language: 'nb', title: `Tittel ${id}` }),
        sampleAnnouncementView({ ...base, language: 'en', title: `Title ${id}` }),
      ],
    } as LiveEvent;
  }

  it('sends an organisation-limited announcement to members of the audience only', async () => {
    const uio = setup({ actor: member(UIO) });
    const ntnu = setup({ actor: member(NTNU) });
    const none = setup({ actor: member(null) });
    const anonymous = setup();
    for (const socket of [uio, ntnu, none, anonymous]) {
      await socket.send({ type: 'subscribe', channels: ['alpha'] });
      socket.deliver(event(1, 'alpha', [UIO]));
      socket.deliver(event(2, 'alpha', []));
      socket.deliver(event(3, 'alpha', [NTNU, UIO]));
    }
    expect(uio.socket.eventIds()).toEqual(['1', '2', '3']);
    expect(ntnu.socket.eventIds()).toEqual(['2', '3']);
    expect(none.socket.eventIds()).toEqual(['2']);
    expect(anonymous.socket.eventIds()).toEqual(['2']);
  });

  it("sends every announcement to the channel's editors and to administrators, whatever its audience", async () => {
    const publisher = setup({ actor: member(NTNU), roles: { alpha: 'publisher' } });
    const admin = setup({ actor: member(null, true) });
    for (const socket of [publisher, admin]) {
      await socket.send({ type: 'subscribe', channels: ['alpha', 'beta'] });
      socket.deliver(event(1, 'alpha', [UIO]));
      socket.deliver(event(2, 'beta', [UIO]));
    }
    // A role in alpha makes an editor of alpha only.
    expect(publisher.socket.eventIds()).toEqual(['1']);
    expect(admin.socket.eventIds()).toEqual(['1', '2']);
  });

  it('applies the same rule to retractions and to replayed events', async () => {
    const retraction: LiveEvent = {
      eventId: '9',
      type: 'announcement.retracted',
      channelId: 'id-alpha',
      channel: 'alpha',
      audienceOrganisationIds: [UIO],
      announcementId: 'a-1',
    };
    const replay = async () => ({
      kind: 'replay' as const,
      events: [event(7, 'alpha', [UIO]), event(8, 'alpha'), retraction],
    });
    const uio = setup({ actor: member(UIO), replay });
    const ntnu = setup({ actor: member(NTNU), replay });
    await uio.send({ type: 'subscribe', channels: ['alpha'], since: '1' });
    await ntnu.send({ type: 'subscribe', channels: ['alpha'], since: '1' });
    expect(uio.socket.allEventIds()).toEqual(['7', '8', '9']);
    expect(ntnu.socket.allEventIds()).toEqual(['8']);
    // `count` is what the replay returned for this socket (the query filtered by audience already).
    expect(ntnu.socket.sent.at(-1)).toMatchObject({ type: 'replayed', count: 3 });

    ntnu.deliver({ ...retraction, eventId: '10' });
    uio.deliver({ ...retraction, eventId: '10' });
    expect(ntnu.socket.allEventIds()).toEqual(['8']);
    expect(uio.socket.allEventIds()).toEqual(['7', '8', '9', '10']);
  });

  it('decides later events with the access a re-check found: a lost role or another organisation', async () => {
    const { socket, session, send, deliver } = setup({ actor: member(NTNU), roles: { alpha: 'owner' } });
    await send({ type: 'subscribe', channels: ['alpha'] });
    deliver(event(1, 'alpha', [UIO]));
    session.refreshAccess(member(NTNU), new Map([['id-alpha', { visibility: 'public', role: null }]]));
    deliver(event(2, 'alpha', [UIO]));
    session.refreshAccess(member(UIO), new Map());
    deliver(event(3, 'alpha', [UIO]));
    expect(socket.eventIds()).toEqual(['1', '3']);
  });

  it("sends each socket the version in its language, with the fallback, and shares each version's frame", async () => {
    const nb = setup({ language: 'nb' });
    const nn = setup({ language: 'nn' });
    const en = setup({ language: 'en' });
    const original = setup({ language: null });
    const frames = new EventFrames(bilingual(1));
    for (const socket of [nb, nn, en, original]) {
      await socket.send({ type: 'subscribe', channels: ['alpha'] });
      socket.deliver(frames);
    }
    const titles = [nb, nn, en, original].map((s) => s.socket.sent.at(-1)!.announcement as Record<string, unknown>);
    expect(titles.map((a) => [a.language, a.title])).toEqual([
      ['nb', 'Tittel 1'],
      // nynorsk falls back to bokmål
      ['nb', 'Tittel 1'],
      ['en', 'Title 1'],
      ['nb', 'Tittel 1'],
    ]);
    // Two versions sent, two serialisations for four sockets.
    expect(frames.serialisations).toBe(2);
    // No audience on the wire to clients.
    expect(nb.socket.sent.at(-1)).not.toHaveProperty('audienceOrganisationIds');
    expect(nb.socket.sent.at(-1)).not.toHaveProperty('announcements');
  });

  it('forwards announcement.updated frames with material and revision, in the socket language', async () => {
    const { socket, send, deliver } = setup({ language: 'en', actor: member(UIO) });
    await send({ type: 'subscribe', channels: ['alpha'] });
    const published = bilingual(1, [UIO]);
    deliver(published);
    deliver({
      ...published,
      eventId: '2',
      type: 'announcement.updated',
      material: true,
      revision: 2,
    } as LiveEvent);
    expect(socket.sent.at(-1)).toEqual({
      type: 'announcement.updated',
      eventId: '2',
      channelId: 'id-alpha',
      channel: 'alpha',
      material: true,
      revision: 2,
      announcement: expect.objectContaining({ id: 'a-1', language: 'en', title: 'Title 1' }),
    });
  });
  it('tells a socket to remove an announcement an edit took out of its audience, once; others get the edit as usual', async () => {
    const uio = setup({ actor: member(UIO) });
    const ntnu = setup({ actor: member(NTNU) });
    const both = setup({ actor: member(UIO) });
    for (const socket of [uio, ntnu, both]) await socket.send({ type: 'subscribe', channels: ['alpha'] });
    const published = event(1, 'alpha', [UIO]);
    const edit = (eventId: number, audience: string[]): LiveEvent =>
      ({
        ...published,
        eventId: String(eventId),
        type: 'announcement.updated',
        material: true,
        revision: eventId,
        audienceOrganisationIds: audience,
      }) as LiveEvent;
    for (const socket of [uio, ntnu]) {
      socket.deliver(published);
      // Moved from UiO to NTNU, then edited again for NTNU.
      socket.deliver(edit(2, [NTNU]));
      socket.deliver(edit(3, [NTNU]));
    }
    expect(uio.socket.sent.slice(1).map((f) => [f.eventId, f.type, f.reason])).toEqual([
      ['1', 'announcement.published', undefined],
      ['2', 'announcement.retracted', 'audience'],
    ]);
    expect(uio.socket.sent.at(-1)).toEqual({
      type: 'announcement.retracted',
      eventId: '2',
      channelId: 'id-alpha',
      channel: 'alpha',
      announcementId: 'a-1',
      reason: 'audience',
    });
    // NTNU was never sent it: nothing to remove; the edits that made it theirs arrive as updates.
    expect(ntnu.socket.sent.slice(1).map((f) => [f.eventId, f.type])).toEqual([
      ['2', 'announcement.updated'],
      ['3', 'announcement.updated'],
    ]);
    // A socket that was not sent the announcement on this connection is not told anything about it.
    both.deliver(edit(4, [NTNU]));
    expect(both.socket.sent.slice(1)).toEqual([]);
  });

  it('sends a replay and the live events held meanwhile as one batch of writes, after the subscribed frame', async () => {
    const socket = new BatchingSocket();
    let finishRead!: () => void;
    const read = new Promise<void>((resolve) => {
      finishRead = resolve;
    });
    const { session, deliver } = setup({
      socket,
      replay: async () => {
        await read;
        return { kind: 'replay', events: [event(2), event(3)] };
      },
    });
    session.receive(Buffer.from(JSON.stringify({ type: 'subscribe', channels: ['alpha'], since: '1' })), false);
    await new Promise((resolve) => setImmediate(resolve));
    deliver(event(4));
    finishRead();
    await session.settled();
    expect(socket.types()).toEqual([
      'subscribed',
      'announcement.published',
      'announcement.published',
      'announcement.published',
      'replayed',
    ]);
    expect(socket.eventIds()).toEqual(['2', '3', '4']);
    expect(socket.batches).toEqual([
      ['announcement.published', 'announcement.published', 'announcement.published', 'replayed'],
    ]);
  });

  it('hands a batch over before the buffer limit judges it: a reading client gets a long replay whole, one that does not is cut off', async () => {
    const frameBytes = new EventFrames(event(10)).frame(null).json.length;
    const replayed = Array.from({ length: 10 }, (_, i) => event(i + 2));
    const run = async (reads: boolean) => {
      const socket = new BatchingSocket();
      socket.reads = reads;
      const { session } = setup({
        socket,
        limits: { maxBufferedBytes: Math.floor(frameBytes * 2.5) },
        replay: async () => ({ kind: 'replay', events: replayed }),
      });
      session.request({ type: 'subscribe', channels: ['alpha'], since: '1' });
      await session.settled();
      return socket;
    };
    const reading = await run(true);
    expect(reading.eventIds()).toEqual(replayed.map((e) => e.eventId));
    expect(reading.types().at(-1)).toBe('replayed');
    expect(reading.closedWith).toBeUndefined();
    expect(reading.flushes).toBeGreaterThan(2);
    const stuck = await run(false);
    expect(stuck.closedWith?.code).toBe(1013);
    expect(stuck.eventIds().length).toBeLessThan(replayed.length);
  });
});
