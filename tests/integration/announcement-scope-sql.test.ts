/**
 * The SQL form of announcement visibility (src/db/announcement-scope-sql.ts) against the domain rules, on real
 * PostgreSQL: for a grid of announcements (every status × audience × expiry, in channels of every visibility, with and
 * without roles) and every kind of actor, the rows visibleAnnouncementSql selects are exactly those for which
 * canReadChannel && canSeeAnnouncement && published && (not expired, unless expired ones are asked for) holds.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audienceScopeSql, notExpiredSql, visibleAnnouncementSql } from '../../src/db/announcement-scope-sql.js';
import type { Db } from '../../src/db/prisma.js';
import { type ChannelFacts, canReadChannel } from '../../src/domain/access.js';
import {
  ANNOUNCEMENT_STATUSES,
  type AnnouncementStatus,
  audienceScope,
  canSeeAnnouncement,
  isExpired,
  isInAudienceScope,
} from '../../src/domain/announcement.js';
import {
  type Actor,
  ANONYMOUS,
  CHANNEL_VISIBILITIES,
  type ChannelRoleKind,
  type ChannelVisibility,
  TOKEN_SCOPES,
  type TokenScope,
} from '../../src/domain/types.js';
import type { Prisma } from '../../src/generated/prisma/client.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

let ctx: TestContext;
let db: Db;

const NOW = new Date('2026-11-26T12:00:00.000Z');
const HOUR = 3_600_000;

interface GridChannel {
  id: string;
  visibility: ChannelVisibility;
  /** Roles held here, by user id. */
  roles: Map<string, ChannelRoleKind>;
}
interface GridAnnouncement {
  id: string;
  channel: GridChannel;
  status: AnnouncementStatus;
  audienceOrganisationIds: string[];
  expiresAt: Date | null;
}
interface NamedActor {
  name: string;
  actor: Actor;
}

let channels: GridChannel[] = [];
let announcements: GridAnnouncement[] = [];
let actors: NamedActor[] = [];

beforeAll(async () => {
  ctx = await createTestContext();
  db = ctx.deps.db;

  const [orgA, orgB, orgC] = await Promise.all(
    ['A', 'B', 'C'].map((code) =>
      db.organisation.create({ data: { code: `ORG-${code}`, name: code, realm: `${code.toLowerCase()}.no` } }),
    ),
  );
  const makeUser = async (organisationId: string | null, isAdmin = false) =>
    (await db.user.create({ data: { displayName: 'u', organisationId, isAdmin } })).id;
  const memberA = await makeUser(orgA!.id);
  const memberB = await makeUser(orgB!.id);
  const noOrganisation = await makeUser(null);
  const admin = await makeUser(orgC!.id, true);
  const publisher = await makeUser(orgB!.id);
  const owner = await makeUser(null);
  const tokenUser = await makeUser(orgA!.id);

  const asUser = (
    userId: string,
    organisationId: string | null,
    isAdmin = false,
    scopes: readonly TokenScope[] = TOKEN_SCOPES,
  ): Actor => ({
    kind: 'user',
    userId,
    organisationId,
    isAdmin,
    scopes,
  });
  actors = [
    { name: 'anonymous', actor: ANONYMOUS },
    { name: 'member of org A', actor: asUser(memberA, orgA!.id) },
    { name: 'member of org B', actor: asUser(memberB, orgB!.id) },
    { name: 'user of no organisation', actor: asUser(noOrganisation, null) },
    { name: 'administrator (org C)', actor: asUser(admin, orgC!.id, true) },
    { name: 'administrator token without read', actor: asUser(admin, orgC!.id, true, ['admin']) },
    { name: 'publisher (org B)', actor: asUser(publisher, orgB!.id) },
    { name: 'publisher token without read', actor: asUser(publisher, orgB!.id, false, ['publish']) },
    { name: 'owner (no organisation)', actor: asUser(owner, null) },
    { name: 'token without read (org A)', actor: asUser(tokenUser, orgA!.id, false, ['publish']) },
  ];

  // Each visibility twice: one channel where the publisher and owner hold their roles, one where nobody does.
  channels = [];
  for (const visibility of CHANNEL_VISIBILITIES) {
    for (const withRoles of [true, false]) {
      const channel = await db.channel.create({
        data: { slug: `${visibility}-${withRoles ? 'roles' : 'plain'}`, title: 't', visibility },
      });
      const roles = new Map<string, ChannelRoleKind>();
      if (withRoles) {
        roles.set(publisher, 'publisher');
        roles.set(owner, 'owner');
        await db.channelRole.createMany({
          data: [...roles].map(([userId, role]) => ({ channelId: channel.id, userId, role })),
        });
      }
      channels.push({ id: channel.id, visibility, roles });
    }
  }

  const audiences = [[], [orgA!.id], [orgB!.id], [orgA!.id, orgC!.id], [randomUUID()]];
  // Expiry: none, long past, exactly now (expired: isExpired counts `now` itself), just after now, far future.
  const expiries = [
    null,
    new Date(NOW.getTime() - 24 * HOUR),
    NOW,
    new Date(NOW.getTime() + 1),
    new Date(NOW.getTime() + HOUR),
  ];
  announcements = [];
  for (const channel of channels) {
    for (const status of ANNOUNCEMENT_STATUSES) {
      for (const audienceOrganisationIds of audiences) {
        for (const expiresAt of expiries) {
          announcements.push({ id: randomUUID(), channel, status, audienceOrganisationIds, expiresAt });
        }
      }
    }
  }
  await db.announcement.createMany({
    data: announcements.map((a) => ({
      id: a.id,
      channelId: a.channel.id,
      title: 't',
      body: 'b',
      status: a.status,
      // As the services write them: published and retracted ones were published; drafts and scheduled ones not yet.
      publishedAt: a.status === 'published' || a.status === 'retracted' ? new Date(NOW.getTime() - HOUR) : null,
      retractedAt: a.status === 'retracted' ? NOW : null,
      publishAt: a.status === 'scheduled' ? new Date(NOW.getTime() + HOUR) : null,
      audienceOrganisationIds: a.audienceOrganisationIds,
      expiresAt: a.expiresAt,
    })),
  });
});

afterAll(async () => {
  await ctx?.close();
});

function factsOf(actor: Actor, channel: GridChannel): ChannelFacts {
  return {
    visibility: channel.visibility,
    role: actor.kind === 'user' ? (channel.roles.get(actor.userId) ?? null) : null,
  };
}

function domainVisible(actor: Actor, a: GridAnnouncement, includeExpired: boolean): boolean {
  const channel = factsOf(actor, a.channel);
  return (
    canReadChannel(actor, channel) &&
    canSeeAnnouncement(actor, channel, a) &&
    a.status === 'published' &&
    (includeExpired || !isExpired(a, NOW))
  );
}

async function selected(condition: Prisma.Sql): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT a.id FROM "Announcement" a JOIN "Channel" c ON c.id = a."channelId" WHERE ${condition} ORDER BY a.id`;
  return rows.map((row) => row.id);
}

const sorted = (ids: string[]) => [...ids].sort();

describe('visibleAnnouncementSql', () => {
  it('has a grid with something to see and something hidden for every actor', () => {
    expect(announcements).toHaveLength(6 * 4 * 5 * 5);
    for (const { name, actor } of actors) {
      const visible = announcements.filter((a) => domainVisible(actor, a, false));
      expect(visible.length, name).toBeGreaterThan(0);
      expect(visible.length, name).toBeLessThan(announcements.length);
    }
  });

  for (const includeExpired of [false, true]) {
    it(`selects exactly what the domain shows, for every actor (includeExpired: ${includeExpired})`, async () => {
      for (const { name, actor } of actors) {
        const got = await selected(visibleAnnouncementSql(actor, 'a', 'c', { now: NOW, includeExpired }));
        const want = sorted(announcements.filter((a) => domainVisible(actor, a, includeExpired)).map((a) => a.id));
        const describe = (id: string) => {
          const a = announcements.find((x) => x.id === id)!;
          return `${a.channel.visibility}${a.channel.roles.size ? '+roles' : ''}/${a.status}/[${a.audienceOrganisationIds.length}]/${a.expiresAt?.toISOString() ?? 'never'}`;
        };
        expect({
          name,
          extra: got.filter((id) => !want.includes(id)).map(describe),
          missing: want.filter((id) => !got.includes(id)).map(describe),
        }).toEqual({ name, extra: [], missing: [] });
      }
    });
  }

  it('spells out a few cells', async () => {
    const byName = (name: string) => actors.find((a) => a.name === name)!.actor;
    const visibleIds = async (name: string) =>
      new Set(await selected(visibleAnnouncementSql(byName(name), 'a', 'c', { now: NOW, includeExpired: false })));
    const pick = (p: (a: GridAnnouncement) => boolean) => announcements.find(p)!;
    const forA = pick(
      (a) =>
        a.channel.visibility === 'public' &&
        a.status === 'published' &&
        a.audienceOrganisationIds.length === 1 &&
        a.expiresAt === null &&
        a.channel.roles.size === 0,
    );
    const orgA = forA.audienceOrganisationIds[0];
    expect(forA.audienceOrganisationIds).toEqual([orgA]);
    const memberA = await visibleIds('member of org A');
    const memberB = await visibleIds('member of org B');
    const anonymous = await visibleIds('anonymous');
    const admin = await visibleIds('administrator (org C)');
    // A public announcement for org A only: its members and administrators, nobody else.
    expect([memberA.has(forA.id), memberB.has(forA.id), anonymous.has(forA.id), admin.has(forA.id)]).toEqual([
      true,
      false,
      false,
      true,
    ]);
    // Drafts and expired ones are never listed, even for their editors.
    const publisher = await visibleIds('publisher (org B)');
    const draft = pick((a) => a.channel.roles.size > 0 && a.status === 'draft');
    const expired = pick((a) => a.channel.roles.size > 0 && a.status === 'published' && a.expiresAt === NOW);
    expect([publisher.has(draft.id), publisher.has(expired.id)]).toEqual([false, false]);
  });
});

describe('audienceScopeSql and notExpiredSql', () => {
  it('audienceScopeSql selects exactly what isInAudienceScope accepts, whatever the status and channel', async () => {
    for (const { name, actor } of actors) {
      const got = await selected(audienceScopeSql(audienceScope(actor), 'a', 'c'));
      const want = sorted(
        announcements
          .filter((a) =>
            isInAudienceScope(audienceScope(actor), a.audienceOrganisationIds, factsOf(actor, a.channel).role),
          )
          .map((a) => a.id),
      );
      expect(got, name).toEqual(want);
    }
  });

  it('notExpiredSql agrees with isExpired to the millisecond', async () => {
    for (const now of [
      NOW,
      new Date(NOW.getTime() - 1),
      new Date(NOW.getTime() + 1),
      new Date(NOW.getTime() + 2 * HOUR),
    ]) {
      const got = await selected(notExpiredSql('a', now));
      expect(got, now.toISOString()).toEqual(sorted(announcements.filter((a) => !isExpired(a, now)).map((a) => a.id)));
    }
  });

  it('refuses aliases that are not plain identifiers', () => {
    expect(() => notExpiredSql('a; DROP TABLE x', NOW)).toThrow(/Not a plain SQL alias/);
    expect(() => audienceScopeSql({ all: false, organisationId: null, memberUserId: null }, 'a', 'C"')).toThrow(
      /Not a plain SQL alias/,
    );
  });
});
