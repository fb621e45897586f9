/**
 * A world for the reader and subscriber pages' tests (tests/http/web-reader-pages.test.ts, web-my-pages.test.ts and
 * the browser tests): channels of each visibility, and in the public one a pinned announcement, a bilingual planned
 * maintenance with an attachment and an edit, an incident with its "resolved" follow-up, and one that asks for
 * acknowledgement — published through the real use cases, so they read as they would in production.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/prisma.js';
import type { Actor } from '../../src/domain/types.js';
import { editAnnouncement } from '../../src/services/edit.js';
import { pinAnnouncement } from '../../src/services/pin.js';
import { publishAnnouncement } from '../../src/services/publish.js';
import { createChannel, createUser, grantRole, type TestChannel, type TestUser } from './factories.js';

export interface ReaderWorld {
  publicChannel: TestChannel;
  internalChannel: TestChannel;
  restrictedChannel: TestChannel;
  /** A member of UiO, no roles. */
  reader: TestUser;
  /** The public channel's owner (and the restricted one's). */
  owner: TestUser;
  owners: Actor;
  ids: {
    pinned: string;
    maintenance: string;
    incident: string;
    resolved: string;
    acknowledge: string;
    internal: string;
    restricted: string;
  };
}

export const READER_TITLES = {
  pinned: 'Nytt telefonnummer til brukerstøtten',
  maintenance: 'Planlagt vedlikehold av Inspera',
  maintenanceEn: 'Planned maintenance of Inspera',
  incident: 'Canvas er nede',
  resolved: 'Canvas virker igjen',
  acknowledge: 'Nye rutiner for arkivering',
  internal: 'Intern melding om lønn',
  restricted: 'Lukket melding om styremøtet',
} as const;

export async function createReaderWorld(db: Db, publicUrl: string): Promise<ReaderWorld> {
  const publicChannel = await createChannel(db, { visibility: 'public', title: 'BOTT Studieadministrasjon' });
  await db.channel.update({
    where: { id: publicChannel.id },
    data: { description: 'Driftsmeldinger for studiesystemene' },
  });
  const internalChannel = await createChannel(db, { visibility: 'internal', title: 'BOTT Økonomi' });
  const restrictedChannel = await createChannel(db, { visibility: 'restricted', title: 'BOTT Styret' });
  const reader = await createUser(db, { organisationCode: 'UiO' });
  const owner = await createUser(db, { organisationCode: 'UiB' });
  for (const channel of [publicChannel, internalChannel, restrictedChannel]) {
    await grantRole(db, channel.id, owner.id, 'owner');
  }
  const owners: Actor = {
    kind: 'user',
    userId: owner.id,
    isAdmin: false,
    organisationId: owner.organisationId,
    scopes: ['read', 'publish'],
  };
  const deps = { db, publicUrl };
  const publish = (slug: string, input: Parameters<typeof publishAnnouncement>[3]) =>
    publishAnnouncement(deps, owners, slug, input).then((view) => view.id);

  const pinned = await publish(publicChannel.slug, {
    title: READER_TITLES.pinned,
    body: 'Ring **55 58 00 00** fra mandag.',
  });
  const start = new Date(Date.now() + 2 * 86_400_000);
  const maintenance = await publish(publicChannel.slug, {
    title: READER_TITLES.maintenance,
    summary: 'Inspera er utilgjengelig lørdag kveld.',
    body: 'Vi oppgraderer Inspera.\n\n- Eksamen flyttes ikke\n- Lagre arbeidet ditt',
    importance: 'important',
    type: 'maintenance',
    affectedSystem: 'Inspera',
    startsAt: start.toISOString(),
    endsAt: new Date(start.getTime() + 3 * 3_600_000).toISOString(),
    translations: [
      {
        language: 'en',
        title: READER_TITLES.maintenanceEn,
        summary: 'Inspera is unavailable on Saturday evening.',
        body: 'We are upgrading Inspera.',
      },
    ],
  });
  const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(245_000 - 9, 0x20)]);
  await db.attachment.create({
    data: {
      id: randomUUID(),
      announcementId: maintenance,
      filename: 'Tidsplan.pdf',
      contentType: 'application/pdf',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      storage: 'database',
      data: bytes,
    },
  });
  await editAnnouncement(deps, owners, maintenance, {
    body: 'Vi oppgraderer Inspera til en ny versjon.\n\n- Eksamen flyttes ikke\n- Lagre arbeidet ditt',
    material: true,
    note: 'Presisert hva som skjer',
  });
  const incident = await publish(publicChannel.slug, {
    title: READER_TITLES.incident,
    body: 'Canvas svarer ikke. Vi feilsøker.',
    importance: 'critical',
    type: 'incident',
  });
  const resolved = await publish(publicChannel.slug, {
    title: READER_TITLES.resolved,
    body: 'Feilen er rettet.',
    type: 'incident',
    resolves: incident,
  });
  const acknowledge = await publish(publicChannel.slug, {
    title: READER_TITLES.acknowledge,
    body: 'Les de nye rutinene.',
    acknowledgement: { required: true, deadline: new Date(Date.now() + 7 * 86_400_000).toISOString() },
  });
  await pinAnnouncement(deps, owners, pinned, {});
  const internal = await publish(internalChannel.slug, { title: READER_TITLES.internal, body: 'Lønn kommer.' });
  const restricted = await publish(restrictedChannel.slug, { title: READER_TITLES.restricted, body: 'Styremøte.' });
  return {
    publicChannel,
    internalChannel,
    restrictedChannel,
    reader,
    owner,
    owners,
    ids: { pinned, maintenance, incident, resolved, acknowledge, internal, restricted },
  };
}
