/**
 * The live log on real PostgreSQL (src/db/live-replay.ts, workers/outbox-relay.ts): positions follow commit order,
 * not id order; a replay waits for a relay that has published but not yet committed; and the three reasons for a
 * `reset` instead of a replay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawPositions, findEventsSince, LIVE_LOG_LOCK } from '../../src/db/live-replay.js';
import type { Actor } from '../../src/domain/types.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createChannel } from '../helpers/factories.js';
import { headPosition, relayAll } from '../helpers/live-relay.js';
import { waitFor } from '../helpers/wait.js';

let ctx: TestContext;
let channelId: string;
const anonymous: Actor = { kind: 'anonymous' };

beforeAll(async () => {
  ctx = await createTestContext();
  channelId = (await createChannel(ctx.deps.db, { visibility: 'public' })).id;
});

afterAll(async () => {
  await ctx?.close();
});

/** A published announcement and its outbox event, written by `db` (a transaction client or the pool). */
async function writePublication(db: Pick<TestContext['deps']['db'], 'announcement' | 'outboxEvent'>, title: string) {
  const announcement = await db.announcement.create({
    data: { channelId, title, body: 'Tekst', status: 'published', publishedAt: new Date() },
  });
  const event = await db.outboxEvent.create({
    data: { type: 'announcement.published', channelId, aggregateId: announcement.id, payload: {} },
  });
  return { announcementId: announcement.id, outboxId: event.id };
}

async function positionOfRow(outboxId: bigint): Promise<bigint | null> {
  return (await ctx.deps.db.outboxEvent.findUniqueOrThrow({ where: { id: outboxId } })).position;
}

/** Whether some backend is waiting (not granted) for the live log's advisory lock. */
async function someoneWaitsForTheLock(): Promise<boolean> {
  const [row] = await ctx.deps.db.$queryRaw<{ waiting: bigint }[]>`
    SELECT count(*) AS waiting FROM pg_locks
     WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
  return Number(row?.waiting ?? 0) > 0;
}

/** A gate a test opens by hand. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

describe('positions', () => {
  it('follow commit order: the event whose transaction commits last gets the higher position, whatever its id', async () => {
    await relayAll(ctx);
    const hold = gate();
    let early: { outboxId: bigint } | undefined;
    // The first transaction takes the lower id, then stays open while a second one commits and is relayed.
    const slow = ctx.deps.db.$transaction(
      async (tx) => {
        early = await writePublication(tx, 'Tok id først, committa sist');
        await hold.wait;
      },
      { timeout: 20_000 },
    );
    await waitFor(() => early, { what: 'the slow transaction to write its row' });
    const late = await writePublication(ctx.deps.db, 'Tok id sist, committa først');
    await relayAll(ctx);
    hold.open();
    await slow;
    await relayAll(ctx);

    expect(early!.outboxId).toBeLessThan(late.outboxId);
    const earlyPosition = await positionOfRow(early!.outboxId);
    const latePosition = await positionOfRow(late.outboxId);
    expect(earlyPosition).not.toBeNull();
    expect(latePosition).not.toBeNull();
    expect(earlyPosition!).toBeGreaterThan(latePosition!);
    // So a client that has the later commit's position still gets the earlier-id event from a replay.
    const replay = await findEventsSince(ctx.deps.db, {
      channelIds: [channelId],
      since: latePosition!,
      limit: 500,
      actor: anonymous,
    });
    expect(replay).toEqual({ kind: 'replay', rows: [expect.objectContaining({ position: earlyPosition })] });
  });

  it('draws consecutive blocks under the lock, and a replay waits for a relay that has not committed yet', async () => {
    await relayAll(ctx);
    const head = BigInt(await headPosition(ctx.deps.db));
    const written = await writePublication(ctx.deps.db, 'Publisert før commit');
    const hold = gate();
    let drawn: bigint | undefined;
    // What the relay does between publishing and committing: positions drawn and stored, the lock held.
    const relaying = ctx.deps.db.$transaction(
      async (tx) => {
        drawn = await drawPositions(tx, 3);
        await tx.outboxEvent.update({
          where: { id: written.outboxId },
          data: { position: drawn, relayedAt: new Date() },
        });
        await hold.wait;
      },
      { timeout: 20_000 },
    );
    await waitFor(() => drawn, { what: 'the positions to be drawn' });
    expect(drawn).toBeGreaterThan(head);

    let replayed: Awaited<ReturnType<typeof findEventsSince>> | undefined;
    const replay = findEventsSince(ctx.deps.db, { channelIds: [channelId], since: head, limit: 500, actor: anonymous });
    void replay.then((result) => {
      replayed = result;
    });
    // The replay blocks on the lock (it would otherwise read before the commit and miss the event).
    await waitFor(someoneWaitsForTheLock, { what: 'the replay to wait for the lock' });
    expect(replayed).toBeUndefined();
    hold.open();
    await relaying;
    expect(await replay).toEqual({ kind: 'replay', rows: [expect.objectContaining({ position: drawn })] });

    // The block of three was reserved: the next relay starts after it.
    const next = await writePublication(ctx.deps.db, 'Neste');
    await relayAll(ctx);
    expect(await positionOfRow(next.outboxId)).toBe(drawn! + 3n);
  });

  it('uses a lock key of its own (not the migration runner’s)', () => {
    expect(LIVE_LOG_LOCK).not.toBe(72707369n);
  });
});

describe('reset instead of a replay', () => {
  it('for a position beyond the newest one, with the newest as the position to continue from', async () => {
    await writePublication(ctx.deps.db, 'Noko');
    await relayAll(ctx);
    const head = BigInt(await headPosition(ctx.deps.db));
    const query = { channelIds: [channelId], limit: 500, actor: anonymous };
    expect(await findEventsSince(ctx.deps.db, { ...query, since: head })).toEqual({ kind: 'replay', rows: [] });
    expect(await findEventsSince(ctx.deps.db, { ...query, since: head + 1n })).toEqual({
      kind: 'reset',
      reason: 'unknown_position',
      head,
    });
  });

  it('for more events than the limit, rather than some of them', async () => {
    await relayAll(ctx);
    const since = BigInt(await headPosition(ctx.deps.db));
    for (const title of ['En', 'To', 'Tre']) await writePublication(ctx.deps.db, title);
    await relayAll(ctx);
    const head = BigInt(await headPosition(ctx.deps.db));
    const query = { channelIds: [channelId], since, actor: anonymous };
    expect(await findEventsSince(ctx.deps.db, { ...query, limit: 2 })).toEqual({
      kind: 'reset',
      reason: 'too_many_events',
      head,
    });
    const whole = await findEventsSince(ctx.deps.db, { ...query, limit: 3 });
    expect(whole.kind === 'replay' && whole.rows.map((row) => row.position)).toEqual([head - 2n, head - 1n, head]);
  });

  it('for a position older than the oldest the log still holds', async () => {
    // The oldest events of the log are removed (here: moved to a channel that is then deleted, whose events go with it).
    const gone = await createChannel(ctx.deps.db, { visibility: 'public' });
    const [first] = await ctx.deps.db.$queryRaw<
      { oldest: bigint }[]
    >`SELECT min(position) AS oldest FROM "OutboxEvent"`;
    await ctx.deps.db.outboxEvent.updateMany({ where: { position: first!.oldest }, data: { channelId: gone.id } });
    await ctx.deps.db.channel.delete({ where: { id: gone.id } });
    const [left] = await ctx.deps.db.$queryRaw<{ oldest: bigint }[]>`SELECT min(position) AS oldest FROM "OutboxEvent"`;
    const oldest = BigInt(left!.oldest);
    const query = { channelIds: [channelId], limit: 500, actor: anonymous };
    const head = BigInt(await headPosition(ctx.deps.db));
    // A client that has everything up to just before the oldest event held misses nothing the log could tell…
    expect((await findEventsSince(ctx.deps.db, { ...query, since: oldest - 1n })).kind).toBe('replay');
    // …one further back may miss what was removed.
    expect(await findEventsSince(ctx.deps.db, { ...query, since: oldest - 2n })).toEqual({
      kind: 'reset',
      reason: 'too_old',
      head,
    });
    expect(await findEventsSince(ctx.deps.db, { ...query, since: 0n })).toMatchObject({ reason: 'too_old' });
  });
});
