/**
 * The outbox relay: moves committed OutboxEvent rows to Redis, at least once.
 *
 * In one transaction per batch it claims unrelayed rows in id order (`FOR UPDATE SKIP LOCKED`), adds one fan-out job
 * per published announcement (job id `fanout-<announcement id>`, so a second add is ignored while the first job is
 * kept), one notice job per material edit (`correction-<id>-r<revision>`) and per retraction (`retraction-<id>`) on
 * the same queue (workers/processors/notices.ts: e-mails to those who received the announcement), one delayed job per
 * `announcement.scheduled` event (the timer of a scheduled publication, see src/services/schedule.ts),
 * publishes the live events on the Redis channel every API process listens to, and sets `relayedAt`. If Redis fails,
 * the transaction rolls back and the rows are taken again later; a live event may then be published twice. Several
 * relays (one per worker process) cooperate: SKIP LOCKED hands each row to one of them.
 *
 * Live events get their position in the live log here, last in the transaction: under the live log's lock, held until
 * commit (drawPositions, src/db/live-replay.ts), the relay draws one position per live row, loads the announcements,
 * publishes the events in position order and commits. So positions follow commit order across relays, and each
 * relay's events reach Redis after those of the relay before it: a client resuming from a position never needs a
 * lower one later (src/realtime/README.md). The announcements are read under the lock so that an event is built with
 * what every lower position changed (a retraction relayed by another relay just before is already visible).
 *
 * It wakes on `LISTEN meldingskanal_outbox` (publishAnnouncement notifies at commit) over a dedicated connection that
 * is re-opened when it drops, and polls every OUTBOX_POLL_MS as well, so a lost notification (or a relay that was
 * down) only delays an event, never loses it.
 */

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { loadAnnouncementRecords } from '../src/db/announcement-records.js';
import { drawPositions } from '../src/db/live-replay.js';
import type { Db } from '../src/db/prisma.js';
import type { Logger } from '../src/logger.js';
import { type FanoutJob, jobId, type ScheduledPublishJob } from '../src/queue/jobs.js';
import { LIVE_EVENT_TYPES, liveEventOf, publishLiveEvents } from '../src/realtime/events.js';
import { ANNOUNCEMENT_UPDATED, type LiveEvent } from '../src/realtime/protocol.js';
import {
  ANNOUNCEMENT_PUBLISHED,
  ANNOUNCEMENT_SCHEDULED,
  OUTBOX_NOTIFY_CHANNEL,
  type ScheduledPayload,
} from '../src/services/publish.js';
import { ANNOUNCEMENT_RETRACTED } from '../src/services/retract.js';
import { fanoutQueueJobFor } from './outbox-jobs.js';

/** Event types this version relays; others are marked relayed with a warning. */
const KNOWN_TYPES: ReadonlySet<string> = new Set([
  ANNOUNCEMENT_SCHEDULED,
  ANNOUNCEMENT_PUBLISHED,
  ANNOUNCEMENT_UPDATED,
  ANNOUNCEMENT_RETRACTED,
]);

export interface OutboxRelayDeps {
  db: Db;
  fanoutQueue: Pick<Queue<FanoutJob>, 'addBulk'>;
  /** Timers of scheduled publications (`announcement.scheduled` events become delayed jobs). */
  scheduledQueue: Pick<Queue<ScheduledPublishJob>, 'addBulk'>;
  /** Publishes live events; a fail-fast connection is right (the rows are simply retried). */
  publisher: Redis;
  redisPrefix: string;
  /** For the dedicated LISTEN connection (Prisma's pool cannot hold a session-level LISTEN). */
  databaseUrl: string;
  publicUrl: string;
  /** OUTBOX_POLL_MS. */
  pollMs: number;
  logger: Logger;
  /** Events per transaction. */
  batchSize?: number;
}

export interface OutboxRelay {
  /** Relays one batch; resolves to the number of events relayed. Throws if PostgreSQL or Redis fails. */
  relayOnce(): Promise<number>;
  /** Starts listening and polling. */
  start(): Promise<void>;
  /** Stops listening and polling and waits for the batch in progress. */
  close(): Promise<void>;
}

interface OutboxRow {
  id: bigint;
  type: string;
  channelId: string;
  aggregateId: string;
  payload: unknown;
}

const DEFAULT_BATCH_SIZE = 100;
const LISTEN_RETRY_MAX_MS = 10_000;
const LISTEN_CONNECT_TIMEOUT_MS = 10_000;

export function createOutboxRelay(deps: OutboxRelayDeps): OutboxRelay {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const log = deps.logger;

  async function relayOnce(): Promise<number> {
    const relayed = await deps.db.$transaction(
      async (tx) => {
        const events = await tx.$queryRaw<OutboxRow[]>`
          SELECT id, type, "channelId", "aggregateId", payload
            FROM "OutboxEvent"
           WHERE "relayedAt" IS NULL
           ORDER BY id
           LIMIT ${batchSize}::int
             FOR UPDATE SKIP LOCKED`;
        if (events.length === 0) return [];

        // Events of a type this version does not know are marked relayed (with a warning) rather than left to block
        // the head of the queue forever.
        for (const event of events) {
          if (!KNOWN_TYPES.has(event.type)) {
            log.warn({ eventId: String(event.id), type: event.type }, 'outbox event of unknown type skipped');
          }
        }

        // A scheduled publication's timer: a delayed job named by announcement and time, so a re-schedule adds a new
        // job and a second relay of the same event is ignored. Only the timer lives in Redis: the job re-checks in
        // PostgreSQL, and the sweeper publishes what a lost timer would have (src/services/schedule.ts).
        const timers = events.flatMap((event) => {
          if (event.type !== ANNOUNCEMENT_SCHEDULED) return [];
          const payload = event.payload as Partial<ScheduledPayload> | null;
          const publishAtMs = Date.parse(String(payload?.publishAt));
          if (Number.isNaN(publishAtMs)) {
            log.warn({ eventId: String(event.id) }, 'announcement.scheduled event without publishAt skipped');
            return [];
          }
          const announcementId = announcementIdOf(event);
          return [
            {
              name: 'publish',
              data: { announcementId },
              opts: {
                jobId: jobId.scheduledPublish(announcementId, publishAtMs),
                delay: Math.max(0, publishAtMs - Date.now()),
              },
            },
          ];
        });
        // Redis calls run alongside the statements below (awaited before the live events are published): one round
        // trip less on the path of every live event.
        const jobsAdded: Promise<unknown>[] = [];
        if (timers.length > 0) jobsAdded.push(deps.scheduledQueue.addBulk(timers));

        // Fan-outs, corrections (material edits only) and retraction notices (workers/outbox-jobs.ts), named so that a
        // second relay of the same event is ignored while the first job is kept; the processors re-check everything
        // in PostgreSQL. Such an event stays unprocessed until its job is done: the sweeper re-adds a lost one.
        const fanoutJobs = events.flatMap((event) => {
          const job = fanoutQueueJobFor(event);
          return job ? [{ event, job }] : [];
        });
        if (fanoutJobs.length > 0) {
          jobsAdded.push(
            deps.fanoutQueue.addBulk(
              fanoutJobs.map(({ job }) => ({ name: job.name, data: job.data, opts: { jobId: job.jobId } })),
            ),
          );
        }
        // Settled in any case, so that a failure of one is not left unhandled while the statements run; the first
        // failure is thrown below and rolls the transaction back, as before.
        const jobsSettled = Promise.allSettled(jobsAdded);
        // Live events (published, updated, retracted) last, under the live log's lock until commit (file comment).
        // They carry the announcement's audience and every language version; material edits and retractions also
        // got a notice job above (minor edits are live-only).
        const liveRows = events.filter((event) => LIVE_EVENT_TYPES.includes(event.type));
        let liveEvents: LiveEvent[] = [];
        const positioned: { id: string; position: string }[] = [];
        if (liveRows.length > 0) {
          const first = await drawPositions(tx, liveRows.length);
          const announcements = await loadAnnouncementRecords(
            tx,
            liveRows.map((event) => announcementIdOf(event)),
          );
          const byId = new Map(announcements.map((a) => [a.id, a]));
          const now = new Date();
          const live: LiveEvent[] = [];
          // In id order, so a client sees a publication before its edits and its retraction.
          liveRows.forEach((event, i) => {
            const position = first + BigInt(i);
            positioned.push({ id: String(event.id), position: String(position) });
            // Null for a publication or edit of an announcement retracted, deleted or expired before it was relayed
            // (nothing to show live; the fan-out finds nothing to send), and for a deleted one's retraction. The
            // position is spent all the same (the replay leaves such events out too).
            const built = liveEventOf(
              { ...event, position },
              byId.get(announcementIdOf(event)) ?? null,
              deps.publicUrl,
              now,
            );
            if (built) live.push(built);
          });
          liveEvents = live;
        }

        // The positions and the relayed mark in one statement (they were two round trips).
        const ids = events.map((event) => String(event.id));
        const awaitingJobs = fanoutJobs.map(({ event }) => String(event.id));
        await tx.$executeRaw`
          UPDATE "OutboxEvent" e
             SET "relayedAt" = now(), attempts = e.attempts + 1,
                 "processedAt" = CASE WHEN e.id = ANY(${awaitingJobs}::bigint[]) THEN e."processedAt" ELSE now() END,
                 position = COALESCE(p.position, e.position)
            FROM unnest(${ids}::bigint[]) AS r(id)
            LEFT JOIN unnest(${positioned.map((p) => p.id)}::bigint[], ${positioned.map((p) => p.position)}::bigint[])
                   AS p(id, position) ON p.id = r.id
           WHERE e.id = r.id`;
        for (const result of await jobsSettled) if (result.status === 'rejected') throw result.reason;
        // Last, so that only the commit is left once clients may have the positions (one round trip for the batch).
        await publishLiveEvents(deps.publisher, deps.redisPrefix, liveEvents);
        return ids;
      },
      // Redis calls happen inside the transaction; give them room, but not so much that a hung Redis holds row locks.
      { maxWait: 5_000, timeout: 15_000 },
    );
    if (relayed.length > 0) log.debug({ events: relayed.length }, 'outbox events relayed');
    return relayed.length;
  }

  // --- running: single-flight draining, woken by notifications and by the poll timer ---
  let closed = false;
  let draining: Promise<void> | undefined;
  let wokenWhileDraining = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let listening: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });

  function wake(): void {
    if (closed) return;
    if (draining) {
      wokenWhileDraining = true;
      return;
    }
    draining = (async () => {
      do {
        wokenWhileDraining = false;
        try {
          // A full batch means there may be more.
          let relayed = batchSize;
          while (!closed && relayed === batchSize) relayed = await relayOnce();
        } catch (error) {
          // PostgreSQL or Redis is unavailable: the rows stay unrelayed and the next poll tries again.
          log.error({ err: error }, 'outbox relay failed; will retry');
          break;
        }
      } while (wokenWhileDraining && !closed);
    })().finally(() => {
      draining = undefined;
    });
  }

  async function listenLoop(): Promise<void> {
    let failures = 0;
    while (!closed) {
      const client = new pg.Client({
        connectionString: deps.databaseUrl,
        application_name: 'meldingskanal-outbox-relay',
        connectionTimeoutMillis: LISTEN_CONNECT_TIMEOUT_MS,
      });
      const ended = new Promise<void>((resolve) => {
        client.on('error', (error) => {
          if (!closed) log.warn({ err: error }, 'outbox LISTEN connection failed');
          resolve();
        });
        client.on('end', () => resolve());
      });
      try {
        await client.connect();
        client.on('notification', () => wake());
        await client.query(`LISTEN ${OUTBOX_NOTIFY_CHANNEL}`);
        failures = 0;
        // Notifications sent while we were not listening are gone: look once now.
        wake();
        // Until the connection drops or the relay closes (close() may have come while we were connecting).
        await Promise.race([ended, stopped]);
      } catch (error) {
        if (!closed) log.warn({ err: error }, 'outbox LISTEN connection could not be opened');
      } finally {
        await client.end().catch(() => {});
      }
      if (closed) break;
      failures += 1;
      // Polling carries on meanwhile; reconnect with capped back-off.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.min(LISTEN_RETRY_MAX_MS, 250 * 2 ** Math.min(failures, 6)));
        }),
        stopped,
      ]);
      clearTimeout(timer);
    }
  }

  return {
    relayOnce,
    async start() {
      if (closed) throw new Error('The outbox relay was closed');
      if (listening) return;
      listening = listenLoop();
      pollTimer = setInterval(wake, deps.pollMs);
      wake();
    },
    close() {
      closing ??= (async () => {
        closed = true;
        if (pollTimer) clearInterval(pollTimer);
        stop();
        await listening;
        await draining;
      })();
      return closing;
    },
  };
}

function announcementIdOf(event: OutboxRow): string {
  const payload = event.payload as { announcementId?: unknown } | null;
  return typeof payload?.announcementId === 'string' ? payload.announcementId : event.aggregateId;
}
