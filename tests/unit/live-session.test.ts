/** LiveSession's rules with a fake socket, hub and look-ups: ordering, de-duplication, limits, heartbeat. */

import { describe, expect, it } from 'vitest';
import type { LiveListener } from '../../src/realtime/hub.js';
import { encodeFrame, type LiveEvent } from '../../src/realtime/protocol.js';
import {
  LiveSession,
  RECENT_IDS,
  type SessionLimits,
  type SessionPorts,
  type SocketLike,
} from '../../src/realtime/session.js';
import { sampleAnnouncementView } from '../helpers/announcement-view.js';

class FakeSocket implements SocketLike {
  readyState = 1;
  bufferedAmount = 0;
  sent: Record<string, unknown>[] = [];
  closedWith: { code: number; reason: string } | undefined;
  terminated = false;
  pings = 0;
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code: number, reason: string) {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  terminate() {
    this.terminated = true;
    this.readyState = 3;
  }
  ping() {
    this.pings += 1;
  }
  types() {
    return this.sent.map((f) => f.type);
  }
  eventIds() {
    return this.sent.filter((f) => f.type === 'announcement.published').map((f) => f.eventId);
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

function event(id: number, slug = 'alpha'): LiveEvent {
  return {
    eventId: String(id),
    type: 'announcement.published',
    channelId: CHANNELS[slug]!,
    channel: slug,
    announcement: sampleAnnouncementView({
      id: `a-${id}`,
      channel: slug,
      title: `t${id}`,
      body: 'b',
      bodyHtml: '<p>b</p>\n',
      publishedAt: null,
      url: `http://x/${id}`,
    }),
  };
}

const limits: SessionLimits = {
  maxChannels: 3,
  maxBufferedBytes: 10_000_000,
  maxBadFrames: 2,
  maxQueuedFrames: 10,
  maxHeldEvents: 100,
};

function setup(options: { since?: string; replay?: SessionPorts['replay']; readable?: string[] } = {}) {
  const socket = new FakeSocket();
  const hub = new FakeHub();
  const readable = options.readable ?? Object.keys(CHANNELS);
  const ports: SessionPorts = {
    hub,
    log: { warn() {}, debug() {} },
    async resolveChannels(slugs) {
      const granted = slugs.filter((s) => readable.includes(s)).map((slug) => ({ id: CHANNELS[slug]!, slug }));
      return { granted, denied: slugs.filter((s) => !readable.includes(s)) };
    },
    replay: options.replay ?? (async () => ({ events: [], truncated: false })),
  };
  const session = new LiveSession(socket, ports, limits, options.since);
  const send = async (frame: unknown) => {
    session.receive(Buffer.from(typeof frame === 'string' ? frame : JSON.stringify(frame)), false);
    await session.settled();
  };
  const deliver = (e: LiveEvent) => session.deliver(e, encodeFrame(e));
  return { socket, hub, session, send, deliver };
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
        return { events: [event(11, 'alpha'), event(12, 'beta')], truncated: false };
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
        return { events: [event(11), event(12), event(13)], truncated: false };
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
    expect(socket.sent.at(-1)).toEqual({ type: 'replayed', channels: ['alpha'], count: 3, truncated: false });
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
        return { events: [event(21)], truncated: true };
      },
    });
    await send({ type: 'subscribe', channels: ['alpha'] });
    expect(seen).toEqual([20n]);
    expect(socket.sent.at(-1)).toMatchObject({ type: 'replayed', truncated: true });
    deliver(event(19));
    deliver(event(22));
    expect(socket.eventIds()).toEqual(['21', '22']);
    // The second subscribe frame has no since of its own: no replay.
    await send({ type: 'subscribe', channels: ['beta'] });
    expect(seen).toEqual([20n]);
  });

  it('reports a failed replay and still delivers the live events held meanwhile', async () => {
    let deliverDuringReplay: () => void = () => {};
    const { socket, send, deliver } = setup({
      replay: async () => {
        deliverDuringReplay();
        throw new Error('database down');
      },
    });
    deliverDuringReplay = () => deliver(event(30));
    await send({ type: 'subscribe', channels: ['alpha'], since: '1' });
    expect(socket.types()).toEqual(['subscribed', 'error', 'announcement.published', 'replayed']);
    expect(socket.sent[1]).toMatchObject({ code: 'replay_unavailable' });
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

  it('closes with 1008 when frames pile up faster than they are handled', () => {
    const { socket, session } = setup();
    for (let i = 0; i <= limits.maxQueuedFrames; i++) session.receive(Buffer.from('{"type":"ping"}'), false);
    expect(socket.closedWith?.code).toBe(1008);
  });
});
