/** LiveHub against real Redis: delivery by channel, malformed messages, sliced fan-out, counts, close. */

import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Language } from '../../src/domain/types.js';
import { publishLiveEvent } from '../../src/realtime/events.js';
import { LiveHub, type LiveListener } from '../../src/realtime/hub.js';
import { type EventFrames, type LiveEvent, liveRedisChannel } from '../../src/realtime/protocol.js';
import { sampleAnnouncementView } from '../helpers/announcement-view.js';
import { deleteRedisPrefix, testRedisPrefix } from '../helpers/redis.js';
import { REDIS_URL } from '../helpers/urls.js';
import { waitFor } from '../helpers/wait.js';

const prefix = testRedisPrefix();
let publisher: Redis;
const hubs: LiveHub[] = [];

function event(id: number, channelId: string, fields: { expiresAt?: string } = {}): LiveEvent {
  return {
    eventId: String(id),
    type: 'announcement.published',
    channelId,
    channel: channelId,
    audienceOrganisationIds: [],
    announcements: (['nb', 'en'] as const).map((language) =>
      sampleAnnouncementView({
        id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
        channel: channelId,
        language,
        languages: ['nb', 'en'],
        title: `Melding ${id} (${language})`,
        url: `http://localhost:3000/api/v1/announcements/${id}`,
        author: { name: 'Test Publisher' },
        expiresAt: fields.expiresAt ?? null,
      }),
    ),
  };
}

/** A listener reading in `language`, recording the frame it would send. */
class Recorder implements LiveListener {
  readonly received: { event: LiveEvent; frame: string; frames: EventFrames }[] = [];
  constructor(private readonly language: Language | null = null) {}
  deliver(event: LiveEvent, frames: EventFrames) {
    this.received.push({ event, frame: frames.for(this.language), frames });
  }
  ids() {
    return this.received.map((r) => r.event.eventId);
  }
}

function newHub(options: { sliceSize?: number; sliceMs?: number; clock?: () => number } = {}) {
  const warnings: { obj: object; msg: string }[] = [];
  const log = { warn: (obj: object, msg: string) => warnings.push({ obj, msg }), error: () => {} };
  const hub = new LiveHub({ redisUrl: REDIS_URL, prefix, log, ...options });
  hubs.push(hub);
  return { hub, warnings };
}

beforeAll(() => {
  publisher = new Redis(REDIS_URL);
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});
afterAll(async () => {
  publisher.disconnect();
  await deleteRedisPrefix(prefix);
});

describe('LiveHub', () => {
  it('delivers an event published by another Redis connection to the listeners of its channel only', async () => {
    const { hub } = newHub();
    await hub.start();
    const onA = new Recorder();
    const onB = new Recorder();
    hub.watch(onA, 'chan-a');
    hub.watch(onB, 'chan-b');
    expect(hub.connectionCount).toBe(2);
    expect(hub.subscriptionCount).toBe(2);

    await publishLiveEvent(publisher, prefix, event(1, 'chan-a'));
    await publishLiveEvent(publisher, prefix, event(2, 'chan-b'));
    await waitFor(() => onB.received.length === 1, { what: 'the chan-b event' });
    expect(onA.ids()).toEqual(['1']);
    expect(onB.ids()).toEqual(['2']);
    const sent = event(1, 'chan-a');
    expect(onA.received[0]!.event).toEqual(sent);
    expect(JSON.parse(onA.received[0]!.frame)).toEqual({
      type: 'announcement.published',
      eventId: '1',
      channelId: 'chan-a',
      channel: 'chan-a',
      announcement: sent.type === 'announcement.published' ? sent.announcements[0] : undefined,
    });
  });

  it('drops an event whose announcement expired while it travelled', async () => {
    const { hub } = newHub();
    await hub.start();
    const listener = new Recorder();
    hub.watch(listener, 'chan-a');
    await publishLiveEvent(publisher, prefix, event(10, 'chan-a', { expiresAt: '2020-01-01T00:00:00.000Z' }));
    await publishLiveEvent(publisher, prefix, event(11, 'chan-a', { expiresAt: '2999-01-01T00:00:00.000Z' }));
    await waitFor(() => listener.received.length === 1, { what: 'the unexpired event' });
    expect(listener.ids()).toEqual(['11']);
  });

  it('drops a malformed message with a warning and keeps delivering', async () => {
    const { hub, warnings } = newHub();
    await hub.start();
    const listener = new Recorder();
    hub.watch(listener, 'chan-a');
    await publisher.publish(liveRedisChannel(prefix), '{"eventId": 3, "type": "announcement.published"');
    await publisher.publish(liveRedisChannel(prefix), JSON.stringify({ ...event(4, 'chan-a'), eventId: 4 }));
    await publishLiveEvent(publisher, prefix, event(5, 'chan-a'));
    await waitFor(() => listener.received.length === 1, { what: 'the valid event' });
    expect(listener.ids()).toEqual(['5']);
    expect(warnings.map((w) => w.msg)).toEqual([
      'live hub: dropped a malformed event',
      'live hub: dropped a malformed event',
    ]);
  });

  it('serialises each event once per language version, shares the frames, and yields between slices', async () => {
    const { hub } = newHub({ sliceSize: 3 });
    let delivered = 0;
    let deliveredWhenLoopRan: number | undefined;
    // Ten sockets in four languages; the events have nb and en versions (nn readers get nb, the original).
    const languages: (Language | null)[] = ['nb', 'nn', 'en', null];
    const listeners = Array.from({ length: 10 }, (_, i) => {
      const recorder = new Recorder(languages[i % languages.length]!);
      const deliver = recorder.deliver.bind(recorder);
      recorder.deliver = (event, frames) => {
        delivered += 1;
        // Runs as soon as the hub gives the event loop back.
        if (delivered === 1) setImmediate(() => (deliveredWhenLoopRan = delivered));
        deliver(event, frames);
      };
      return recorder;
    });
    for (const listener of listeners) hub.watch(listener, 'chan-a');

    hub.receive(JSON.stringify(event(7, 'chan-a')));
    hub.receive(JSON.stringify(event(8, 'chan-a')));
    await hub.whenIdle();

    // Every listener got both events, in order, although the fan-outs were sliced.
    for (const listener of listeners) expect(listener.ids()).toEqual(['7', '8']);
    // One EventFrames per event shared by every listener, holding one string per version sent.
    expect(new Set(listeners.map((l) => l.received[0]!.frames)).size).toBe(1);
    expect(listeners[0]!.received[0]!.frames.serialisations).toBe(2);
    expect(new Set(listeners.map((l) => l.received[0]!.frame)).size).toBe(2);
    expect(listeners.map((l) => JSON.parse(l.received[0]!.frame).announcement.language)).toEqual(
      listeners.map((_, i) => (languages[i % languages.length] === 'en' ? 'en' : 'nb')),
    );
    // The event loop ran after the first slice of 3 deliveries, not after all 20.
    expect(deliveredWhenLoopRan).toBe(3);
    expect(delivered).toBe(20);
  });

  it('also yields when a slice has taken sliceMs, however few deliveries it made', async () => {
    let now = 0;
    const { hub } = newHub({ sliceSize: 1000, sliceMs: 5, clock: () => now });
    let delivered = 0;
    let deliveredWhenLoopRan: number | undefined;
    const listeners = Array.from({ length: 6 }, () => {
      const recorder = new Recorder(null);
      const deliver = recorder.deliver.bind(recorder);
      recorder.deliver = (event, frames) => {
        delivered += 1;
        // Each delivery takes 2 ms of this clock: the third passes the slice's 5 ms.
        now += 2;
        if (delivered === 1) setImmediate(() => (deliveredWhenLoopRan = delivered));
        deliver(event, frames);
      };
      return recorder;
    });
    for (const listener of listeners) hub.watch(listener, 'chan-a');
    hub.receive(JSON.stringify(event(9, 'chan-a')));
    await hub.whenIdle();
    for (const listener of listeners) expect(listener.ids()).toEqual(['9']);
    expect(deliveredWhenLoopRan).toBe(3);
  });

  it('hands consecutive waiting events of one channel to a listener as one run, in order, between other channels', async () => {
    const { hub } = newHub({ sliceSize: 2 });
    const runs: string[][] = [];
    class RunRecorder extends Recorder {
      deliverAll(frames: readonly EventFrames[]) {
        runs.push(frames.map((f) => f.event.eventId));
        for (const f of frames) this.deliver(f.event, f);
      }
    }
    const batched = new RunRecorder();
    const plain = new Recorder();
    const other = new Recorder();
    const filler = Array.from({ length: 3 }, () => new Recorder());
    for (const listener of [...filler, batched, plain]) hub.watch(listener, 'chan-a');
    hub.watch(other, 'chan-b');

    // The first event's fan-out yields after two deliveries; the events received meanwhile wait together.
    hub.receive(JSON.stringify(event(20, 'chan-a')));
    hub.receive(JSON.stringify(event(21, 'chan-a')));
    hub.receive(JSON.stringify(event(22, 'chan-a')));
    hub.receive(JSON.stringify(event(23, 'chan-b')));
    hub.receive(JSON.stringify(event(24, 'chan-a')));
    await hub.whenIdle();

    expect(runs).toEqual([['21', '22']]);
    expect(batched.ids()).toEqual(['20', '21', '22', '24']);
    expect(plain.ids()).toEqual(['20', '21', '22', '24']);
    expect(other.ids()).toEqual(['23']);
    for (const listener of filler) expect(listener.ids()).toEqual(['20', '21', '22', '24']);
  });

  it('forgets a disconnected listener everywhere and stops on close', async () => {
    const { hub } = newHub();
    await hub.start();
    const listener = new Recorder();
    hub.watch(listener, 'chan-a');
    hub.watch(listener, 'chan-b');
    expect(hub.watch(listener, 'chan-b')).toBe(false);
    expect(hub.subscriptionCount).toBe(2);
    hub.disconnect(listener);
    expect(hub.connectionCount).toBe(0);
    expect(hub.subscriptionCount).toBe(0);

    hub.watch(listener, 'chan-a');
    await hub.close();
    expect(hub.connectionCount).toBe(0);
    hub.receive(JSON.stringify(event(9, 'chan-a')));
    expect(listener.received).toEqual([]);
  });
});
