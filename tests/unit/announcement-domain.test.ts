/**
 * The pure rules of announcements (src/domain/announcement.ts) over their full grids: language fallback for every
 * requested language × every set of available versions; who sees what for every kind of actor × channel visibility ×
 * role × status × audience; the shape rules with the field each names; and the query form of the audience rule
 * (audienceScope / isInAudienceScope) against canSeeAnnouncement. Expectations are spelled out from the documented
 * rules, not computed by the functions under test.
 */
import { describe, expect, it } from 'vitest';
import { type ChannelFacts, canReadChannel } from '../../src/domain/access.js';
import {
  ANNOUNCEMENT_STATUSES,
  type AnnouncementShape,
  type AnnouncementStatus,
  audienceScope,
  canEditContent,
  canSeeAnnouncement,
  isChannelEditor,
  isExpired,
  isInAudience,
  isInAudienceScope,
  type LanguageVersion,
  languagePreference,
  pickVersion,
  validateAnnouncementShape,
} from '../../src/domain/announcement.js';
import { AppError } from '../../src/domain/errors.js';
import {
  type Actor,
  ANONYMOUS,
  CHANNEL_VISIBILITIES,
  type ChannelRoleKind,
  type ChannelVisibility,
  LANGUAGES,
  type Language,
} from '../../src/domain/types.js';

const ORG_A = 'org-a';
const ORG_B = 'org-b';

type User = Extract<Actor, { kind: 'user' }>;
const user = (userId: string, organisationId: string | null, extra: Partial<User> = {}): User => ({
  kind: 'user',
  userId,
  isAdmin: false,
  organisationId,
  scopes: ['read', 'publish', 'admin'],
  ...extra,
});

/** The actors of the issue, each with the role it holds in the channel under test. */
const ACTORS: { name: string; actor: Actor; role: ChannelRoleKind | null }[] = [
  { name: 'anonymous', actor: ANONYMOUS, role: null },
  { name: 'member of org A', actor: user('u-a', ORG_A), role: null },
  { name: 'member of org B', actor: user('u-b', ORG_B), role: null },
  { name: 'user of no organisation', actor: user('u-none', null), role: null },
  { name: 'administrator (org A)', actor: user('u-admin', ORG_A, { isAdmin: true }), role: null },
  { name: 'administrator (no organisation)', actor: user('u-admin2', null, { isAdmin: true }), role: null },
  { name: 'channel publisher (org B)', actor: user('u-pub', ORG_B), role: 'publisher' },
  { name: 'channel owner (no organisation)', actor: user('u-own', null), role: 'owner' },
  { name: 'token without read (org A)', actor: user('u-tok', ORG_A, { scopes: ['publish'] }), role: null },
  {
    name: 'publisher token without read (org B)',
    actor: user('u-pubtok', ORG_B, { scopes: ['publish'] }),
    role: 'publisher',
  },
  {
    name: 'administrator token without read',
    actor: user('u-admintok', null, { isAdmin: true, scopes: ['admin'] }),
    role: null,
  },
];

const AUDIENCES: string[][] = [[], [ORG_A], [ORG_B], [ORG_A, ORG_B]];

describe('languagePreference and pickVersion', () => {
  it('prefers the requested language, then the other Norwegian form for Norwegian readers only', () => {
    expect(languagePreference('nb')).toEqual(['nb', 'nn']);
    expect(languagePreference('nn')).toEqual(['nn', 'nb']);
    expect(languagePreference('en')).toEqual(['en']);
  });

  const version = (language: Language): LanguageVersion => ({
    language,
    title: `title-${language}`,
    summary: language === 'en' ? null : `summary-${language}`,
    body: `body-${language}`,
  });

  /** Every non-empty set of languages, each in every order (the first is the original). */
  function permutations(items: readonly Language[]): Language[][] {
    if (items.length === 0) return [[]];
    return items.flatMap((first) =>
      permutations(items.filter((item) => item !== first)).map((rest) => [first, ...rest]),
    );
  }
  const SUBSETS: Language[][] = [['nb'], ['nn'], ['en'], ['nb', 'nn'], ['nb', 'en'], ['nn', 'en'], ['nb', 'nn', 'en']];
  const AVAILABLE = SUBSETS.flatMap(permutations);

  it('covers 15 orderings of available versions', () => {
    expect(AVAILABLE).toHaveLength(3 + 6 + 6);
  });

  /** The documented fallback, case by case. */
  function expectedLanguage(available: Language[], requested: Language | null): Language {
    const original = available[0]!;
    const has = (language: Language) => available.includes(language);
    switch (requested) {
      case null:
        return original;
      case 'nb':
        return has('nb') ? 'nb' : has('nn') ? 'nn' : original;
      case 'nn':
        return has('nn') ? 'nn' : has('nb') ? 'nb' : original;
      case 'en':
        return has('en') ? 'en' : original;
    }
  }

  for (const available of AVAILABLE) {
    for (const requested of [null, ...LANGUAGES]) {
      it(`asks ${requested ?? '(nothing)'} of [${available.join(', ')}]`, () => {
        const versions = available.map(version);
        const picked = pickVersion(versions, requested);
        const language = expectedLanguage(available, requested);
        // The whole version, the very object given: never a mix of languages.
        expect(picked).toBe(versions.find((v) => v.language === language));
      });
    }
  }

  it('spells out the cases a reader notices', () => {
    const versions = (...languages: Language[]) => languages.map(version);
    expect(pickVersion(versions('nb', 'en'), 'nn').language).toBe('nb');
    expect(pickVersion(versions('en', 'nn'), 'nb').language).toBe('nn');
    // An English reader of a Norwegian-only announcement gets the original, whichever Norwegian form it is.
    expect(pickVersion(versions('nn', 'nb'), 'en').language).toBe('nn');
    expect(pickVersion(versions('nb', 'nn'), 'en').language).toBe('nb');
    expect(pickVersion(versions('en'), 'nb').language).toBe('en');
  });

  it('refuses an announcement without versions', () => {
    expect(() => pickVersion([], 'nb')).toThrow(/at least its original/);
  });
});

describe('isInAudience', () => {
  it('lets everyone, anonymous readers too, into an empty audience', () => {
    for (const organisationId of [null, ORG_A, ORG_B]) expect(isInAudience([], organisationId)).toBe(true);
  });

  it('lets only members of a listed organisation into a non-empty audience', () => {
    expect(isInAudience([ORG_A], ORG_A)).toBe(true);
    expect(isInAudience([ORG_A], ORG_B)).toBe(false);
    expect(isInAudience([ORG_A], null)).toBe(false);
    expect(isInAudience([ORG_A, ORG_B], ORG_B)).toBe(true);
    expect(isInAudience([ORG_A, ORG_B], 'org-c')).toBe(false);
    expect(isInAudience([ORG_A, ORG_B], null)).toBe(false);
  });
});

/** Whether the actor reads a channel of `visibility` (the access rules, restated). */
function expectedChannelRead(actor: Actor, visibility: ChannelVisibility, role: ChannelRoleKind | null): boolean {
  if (visibility === 'public') return true;
  if (actor.kind !== 'user' || !actor.scopes.includes('read')) return false;
  if (actor.isAdmin || role !== null) return true;
  return visibility === 'internal' && actor.organisationId !== null;
}

/** The rule: readers of the channel see published announcements for them; editors see all but retracted. */
function expectedSee(
  actor: Actor,
  visibility: ChannelVisibility,
  role: ChannelRoleKind | null,
  status: AnnouncementStatus,
  audience: readonly string[],
): boolean {
  if (!expectedChannelRead(actor, visibility, role)) return false;
  if (status === 'retracted') return false;
  const editor = actor.kind === 'user' && (actor.isAdmin || role !== null);
  if (editor) return true;
  if (status !== 'published') return false;
  if (audience.length === 0) return true;
  return actor.kind === 'user' && actor.organisationId !== null && audience.includes(actor.organisationId);
}

describe('canSeeAnnouncement', () => {
  for (const { name, actor, role } of ACTORS) {
    it(`${name}: every visibility × status × audience`, () => {
      const cells: string[] = [];
      for (const visibility of CHANNEL_VISIBILITIES) {
        const channel: ChannelFacts = { visibility, role };
        for (const status of ANNOUNCEMENT_STATUSES) {
          for (const audience of AUDIENCES) {
            const got = canSeeAnnouncement(actor, channel, { status, audienceOrganisationIds: audience });
            const want = expectedSee(actor, visibility, role, status, audience);
            if (got !== want) cells.push(`${visibility}/${status}/[${audience}]: got ${got}, want ${want}`);
          }
        }
      }
      expect(cells).toEqual([]);
    });
  }

  it('spells out the cases the issue names', () => {
    const published = (audience: string[]) => ({ status: 'published' as const, audienceOrganisationIds: audience });
    const publicChannel = { visibility: 'public' as const, role: null };
    const internal = { visibility: 'internal' as const, role: null };
    // Organisation audiences.
    expect(canSeeAnnouncement(user('a', ORG_A), publicChannel, published([ORG_A]))).toBe(true);
    expect(canSeeAnnouncement(user('b', ORG_B), publicChannel, published([ORG_A]))).toBe(false);
    expect(canSeeAnnouncement(user('n', null), publicChannel, published([ORG_A]))).toBe(false);
    expect(canSeeAnnouncement(ANONYMOUS, publicChannel, published([ORG_A]))).toBe(false);
    expect(canSeeAnnouncement(ANONYMOUS, publicChannel, published([]))).toBe(true);
    // The audience does not open a channel the reader cannot read.
    expect(canSeeAnnouncement(user('a', ORG_A, { scopes: ['publish'] }), internal, published([ORG_A]))).toBe(false);
    expect(canSeeAnnouncement(user('n', null), internal, published([]))).toBe(false);
    // Editors see beyond the audience, and drafts; nobody sees a retracted one.
    const publisher = { visibility: 'restricted' as const, role: 'publisher' as const };
    expect(canSeeAnnouncement(user('p', ORG_B), publisher, published([ORG_A]))).toBe(true);
    expect(canSeeAnnouncement(user('p', ORG_B), publisher, { status: 'draft', audienceOrganisationIds: [] })).toBe(
      true,
    );
    expect(canSeeAnnouncement(user('a', ORG_A), internal, { status: 'scheduled', audienceOrganisationIds: [] })).toBe(
      false,
    );
    const admin = user('x', null, { isAdmin: true });
    expect(canSeeAnnouncement(admin, publisher, { status: 'retracted', audienceOrganisationIds: [] })).toBe(false);
  });

  it('names editors: administrators and anyone with a role, never anonymous', () => {
    const channel = (role: ChannelRoleKind | null): ChannelFacts => ({ visibility: 'public', role });
    expect(isChannelEditor(ANONYMOUS, channel(null))).toBe(false);
    expect(isChannelEditor(user('a', ORG_A), channel(null))).toBe(false);
    expect(isChannelEditor(user('a', ORG_A), channel('publisher'))).toBe(true);
    expect(isChannelEditor(user('a', ORG_A), channel('owner'))).toBe(true);
    expect(isChannelEditor(user('x', null, { isAdmin: true }), channel(null))).toBe(true);
  });
});

describe('audienceScope and isInAudienceScope', () => {
  it('agree with the audience part of canSeeAnnouncement for every actor, role and audience', () => {
    const cells: string[] = [];
    for (const { name, actor, role } of ACTORS) {
      for (const roleHere of [role, null, 'publisher', 'owner'] as const) {
        if (actor.kind === 'anonymous' && roleHere !== null) continue;
        for (const audience of AUDIENCES) {
          // A public channel, published: everything but the audience part says yes.
          const channel: ChannelFacts = { visibility: 'public', role: roleHere };
          const seen = canSeeAnnouncement(actor, channel, { status: 'published', audienceOrganisationIds: audience });
          const scoped = isInAudienceScope(audienceScope(actor), audience, roleHere);
          if (seen !== scoped) cells.push(`${name}/${roleHere}/[${audience}]: see ${seen}, scope ${scoped}`);
        }
      }
    }
    expect(cells).toEqual([]);
  });

  it('with canReadChannel, equal canSeeAnnouncement for published announcements in every channel', () => {
    const cells: string[] = [];
    for (const { name, actor, role } of ACTORS) {
      for (const visibility of CHANNEL_VISIBILITIES) {
        for (const audience of AUDIENCES) {
          const channel: ChannelFacts = { visibility, role };
          const seen = canSeeAnnouncement(actor, channel, { status: 'published', audienceOrganisationIds: audience });
          const scoped = canReadChannel(actor, channel) && isInAudienceScope(audienceScope(actor), audience, role);
          if (seen !== scoped) cells.push(`${name}/${visibility}/[${audience}]`);
        }
      }
    }
    expect(cells).toEqual([]);
  });

  it('is everything for administrators, nothing beyond "everyone" for anonymous readers', () => {
    expect(audienceScope(user('x', ORG_A, { isAdmin: true }))).toEqual({ all: true });
    expect(audienceScope(ANONYMOUS)).toEqual({ all: false, organisationId: null, memberUserId: null });
    expect(audienceScope(user('a', ORG_A))).toEqual({ all: false, organisationId: ORG_A, memberUserId: 'a' });
  });
});

describe('isExpired', () => {
  const now = new Date('2026-11-26T12:00:00.000Z');
  it('is expired from expiresAt on, never without one', () => {
    expect(isExpired({ expiresAt: null }, now)).toBe(false);
    expect(isExpired({ expiresAt: new Date(now.getTime() + 1) }, now)).toBe(false);
    expect(isExpired({ expiresAt: now }, now)).toBe(true);
    expect(isExpired({ expiresAt: new Date(now.getTime() - 1) }, now)).toBe(true);
  });
});

describe('canEditContent', () => {
  it('allows editing in every state but retracted', () => {
    expect(ANNOUNCEMENT_STATUSES.filter(canEditContent)).toEqual(['draft', 'scheduled', 'published']);
  });
});

describe('validateAnnouncementShape', () => {
  const now = new Date('2026-11-26T12:00:00.000Z');
  const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
  const valid: AnnouncementShape = {
    type: 'general',
    affectedSystem: null,
    startsAt: null,
    endsAt: null,
    resolvesId: null,
    expiresAt: null,
    publishAt: null,
    ackRequired: false,
    ackDeadline: null,
    languages: ['nb'],
  };
  const maintenance: AnnouncementShape = {
    ...valid,
    type: 'maintenance',
    affectedSystem: 'Fronter',
    startsAt: at(60),
    endsAt: at(120),
  };

  /** The field a validation_failed names, or null when the shape passes. */
  function failure(shape: AnnouncementShape): string | null {
    try {
      validateAnnouncementShape(shape, now);
      return null;
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('validation_failed');
      return ((error as AppError).details as { field: string }).field;
    }
  }

  it('accepts well-formed announcements of every kind', () => {
    expect(failure(valid)).toBeNull();
    expect(failure(maintenance)).toBeNull();
    expect(failure({ ...valid, type: 'incident', resolvesId: 'x', startsAt: at(-60) })).toBeNull();
    expect(failure({ ...valid, type: 'release', startsAt: at(1), endsAt: at(2) })).toBeNull();
    expect(failure({ ...valid, ackRequired: true, ackDeadline: at(60) })).toBeNull();
    expect(failure({ ...valid, ackRequired: true })).toBeNull();
    expect(failure({ ...valid, expiresAt: at(1) })).toBeNull();
    expect(failure({ ...valid, publishAt: at(60), expiresAt: at(61) })).toBeNull();
    expect(failure({ ...valid, languages: ['nn', 'nb', 'en'] })).toBeNull();
  });

  it('names the field of each broken rule', () => {
    expect(failure({ ...maintenance, affectedSystem: null })).toBe('affectedSystem');
    expect(failure({ ...maintenance, affectedSystem: '  ' })).toBe('affectedSystem');
    expect(failure({ ...maintenance, startsAt: null })).toBe('startsAt');
    expect(failure({ ...maintenance, endsAt: null })).toBe('endsAt');
    expect(failure({ ...maintenance, endsAt: maintenance.startsAt })).toBe('endsAt');
    expect(failure({ ...maintenance, endsAt: at(30) })).toBe('endsAt');
    expect(failure({ ...valid, startsAt: at(10), endsAt: at(5) })).toBe('endsAt');
    for (const type of ['general', 'maintenance', 'release'] as const) {
      const shape = type === 'maintenance' ? maintenance : { ...valid, type };
      expect(failure({ ...shape, resolvesId: 'x' }), type).toBe('resolves');
    }
    expect(failure({ ...valid, ackDeadline: at(60) })).toBe('acknowledgement.deadline');
    expect(failure({ ...valid, expiresAt: now })).toBe('expiresAt');
    expect(failure({ ...valid, expiresAt: at(-1) })).toBe('expiresAt');
    expect(failure({ ...valid, publishAt: at(60), expiresAt: at(30) })).toBe('expiresAt');
    expect(failure({ ...valid, publishAt: at(60), expiresAt: at(60) })).toBe('expiresAt');
    expect(failure({ ...valid, languages: ['nb', 'nb'] })).toBe('translations');
    expect(failure({ ...valid, languages: ['nb', 'en', 'nb'] })).toBe('translations');
  });

  it('gives a message, in the error, for each rule', () => {
    expect(() => validateAnnouncementShape({ ...maintenance, affectedSystem: null }, now)).toThrow(
      /names the affected system/,
    );
    expect(() => validateAnnouncementShape({ ...valid, ackDeadline: at(1) }, now)).toThrow(/deadline/);
  });
});
