/**
 * Demo content for an empty installation, drawn from the public BOTT intranet page (../shared/seeds/): the four member
 * organisations, the BOTT channels with their descriptions, and a few announcements, all in Norwegian bokmål.
 *
 * The source names two contact persons; demo data names their roles instead ("kontaktperson for BOTT-SA ved NTNU"),
 * so no personal data ships with the project.
 */
import type { Db } from '../db/prisma.js';
import type { AnnouncementType } from '../domain/announcement.js';
import type { ChannelVisibility, Importance, Language } from '../domain/types.js';

export interface DemoOrganisation {
  code: string;
  name: string;
  realm: string;
}

export interface DemoChannel {
  slug: string;
  title: string;
  description: string;
  visibility: ChannelVisibility;
}

export interface DemoAnnouncement {
  channel: string;
  title: string;
  summary?: string;
  /** Markdown. */
  body: string;
  importance: Importance;
  type?: AnnouncementType;
  /** Other language versions (the announcement itself is in bokmål). */
  translations?: readonly { language: Language; title: string; summary?: string; body: string }[];
  /** A maintenance window, in hours from seeding. */
  maintenance?: { affectedSystem: string; startsInHours: number; hours: number };
}

export const DEMO_ORGANISATIONS: readonly DemoOrganisation[] = [
  { code: 'UiB', name: 'Universitetet i Bergen', realm: 'uib.no' },
  { code: 'UiO', name: 'Universitetet i Oslo', realm: 'uio.no' },
  { code: 'UiT', name: 'UiT Norges arktiske universitet', realm: 'uit.no' },
  { code: 'NTNU', name: 'Norges teknisk-naturvitenskapelige universitet', realm: 'ntnu.no' },
];

export const DEMO_CHANNELS: readonly DemoChannel[] = [
  {
    slug: 'bott-informasjon',
    title: 'BOTT-samarbeidet',
    description:
      'Generell informasjon om BOTT-samarbeidet. BOTT er et samarbeid mellom universitetene i Bergen, Oslo, Tromsø ' +
      'og Trondheim for å anskaffe, etablere og forvalte felles systemer og teknologi.',
    visibility: 'public',
  },
  {
    slug: 'bott-sa',
    title: 'BOTT saksbehandling og arkiv',
    description:
      'BOTT-SA skal få på plass et system som skal gjøre saksbehandling lettere, og hvor automatisk arkivering og ' +
      'journalføring er en integrert del i saksbehandlingsprosessen.',
    visibility: 'public',
  },
  {
    slug: 'bott-okonomi-og-lonn',
    title: 'BOTT Økonomi og lønn',
    description:
      'En samordnet økonomi- og lønnstjeneste for BOTT-universitetene. Direktoratet for økonomistyring (DFØ) er BOTT ' +
      'sin leverandør for nye felles tjenester på økonomi- og lønnsområdet.',
    visibility: 'public',
  },
  {
    slug: 'bott-tilgangsstyring',
    title: 'BOTT tilgangsstyring',
    description: 'Fellesløsning for identitets- og tilgangsstyring (IAM) for UH-sektoren.',
    visibility: 'public',
  },
];

/** Oldest first; each is published a little after the one before, so feeds show them newest first. */
export const DEMO_ANNOUNCEMENTS: readonly DemoAnnouncement[] = [
  {
    channel: 'bott-informasjon',
    title: 'Om BOTT-samarbeidet',
    summary: 'Universitetene i Bergen, Oslo, Tromsø og Trondheim samarbeider om felles administrative systemer.',
    importance: 'info',
    translations: [
      {
        language: 'nn',
        title: 'Om BOTT-samarbeidet',
        summary: 'Universiteta i Bergen, Oslo, Tromsø og Trondheim samarbeider om felles administrative system.',
        body:
          'BOTT er eit samarbeid mellom universiteta i Bergen, Oslo, Tromsø og Trondheim for å skaffe, etablere og ' +
          'forvalte felles system og teknologi.\n\nTanken er at likt system for like institusjonar med like behov ' +
          'skal gje ein enklare arbeidskvardag.',
      },
      {
        language: 'en',
        title: 'About the BOTT collaboration',
        summary: 'The universities of Bergen, Oslo, Tromsø and Trondheim share administrative systems.',
        body:
          'BOTT is a collaboration between the universities in Bergen, Oslo, Tromsø and Trondheim to procure, ' +
          'establish and manage shared systems and technology.\n\nThe idea is that the same system for similar ' +
          'institutions with similar needs makes everyday work simpler.',
      },
    ],
    body: [
      'BOTT er et samarbeid mellom universitetene i Bergen, Oslo, Tromsø og Trondheim for å anskaffe, etablere og ' +
        'forvalte felles systemer og teknologi.',
      'Tanken er at likt system for like institusjoner med like behov skal gi en enklere arbeidshverdag. I tillegg har ' +
        'samarbeidet som mål at felles erfarings- og kompetanseutvikling mellom samarbeidspartnerne vil bidra til å ' +
        'finne beste praksis i sektoren.',
      'BOTT-samarbeidet er et resultat av mange års samarbeid om felles økonomisystemer. I Kunnskapsdepartementets ' +
        'digitaliseringsstrategi for universitets- og høyskolesektoren 2017–2021 gis BOTT et ansvar for å se på ' +
        'felles løsninger som kan brukes av hele sektoren. Samarbeidet skal frigjøre ressurser til kjerneoppgaver ved ' +
        'universitetene.',
    ].join('\n\n'),
  },
  {
    channel: 'bott-sa',
    title: 'BOTT-SA: konkurranse og delprosjekter',
    importance: 'info',
    body: [
      'BOTT saksbehandling og arkiv (BOTT-SA) skal få på plass et system som gjør saksbehandling lettere, og hvor ' +
        'automatisk arkivering og journalføring er en integrert del av saksbehandlingsprosessen.',
      'Konkurransen er planlagt ut i markedet i januar 2020, med kontraktsignering i løpet av 2020. Prosjektet deles ' +
        'inn i delprosjekter for:',
      '- standardisering\n- innføring\n- IPAS (integrasjonsplattform, arkitektur og sikkerhet)',
      'Spørsmål om BOTT-SA ved NTNU kan rettes til kontaktpersonen for BOTT-SA ved NTNU.',
    ].join('\n\n'),
  },
  {
    channel: 'bott-okonomi-og-lonn',
    title: 'Tidsplan for felles økonomi- og lønnstjeneste',
    importance: 'important',
    body: [
      'BOTT skal få en samordnet økonomi- og lønnstjeneste innen 2022:',
      '- **UiB og UiO** fra januar 2021\n- **NTNU og UiT** fra januar 2022',
      'Direktoratet for økonomistyring (DFØ) er BOTT sin leverandør for nye felles tjenester på økonomi- og ' +
        'lønnsområdet. Samarbeidet skal gjøre universitetssektoren mer samkjørt med standardiserte arbeidsprosesser ' +
        'og rutiner.',
    ].join('\n\n'),
  },
  {
    channel: 'bott-okonomi-og-lonn',
    title: 'Mottaksprosjekt for BOTT Økonomi og lønn ved NTNU',
    importance: 'info',
    body: [
      'Det er opprettet et mottaksprosjekt for BOTT Økonomi og lønn ved NTNU. Målet er å forberede organisasjonen ' +
        'på nye løsninger og prosessene som kommer fra BOTT Økonomi og lønn nasjonalt.',
      'Dette innebærer forberedelse og innføring av felles rutiner og løsninger innenfor disse hovedprosessene:',
      [
        '- Økonomimodell og regnskap',
        '- Prosjektøkonomi',
        '- Budsjett',
        '- Behov til betaling',
        '- Fordring til innbetaling',
        '- Lønn og lønnsnær HR, inkludert tilsetting og arbeidskontrakt',
      ].join('\n'),
      'Spørsmål om BOTT Økonomi og lønn ved NTNU kan rettes til kontaktpersonen for BOTT Økonomi og lønn ved NTNU.',
    ].join('\n\n'),
  },
  {
    channel: 'bott-tilgangsstyring',
    title: 'IAM-prosjektet: felles identitets- og tilgangsstyring',
    importance: 'info',
    body: [
      'BOTT tilgangsstyring skal gi UH-sektoren en fellesløsning for identitets- og tilgangsstyring (IAM).',
      'Som de andre BOTT-prosjektene er det et tiltak for å nå målbildet for administrative systemer: likt system ' +
        'for like institusjoner med like behov.',
    ].join('\n\n'),
  },
  {
    channel: 'bott-tilgangsstyring',
    title: 'Planlagt vedlikehold av innloggingstjenesten (demo)',
    summary: 'Innlogging via tilgangsstyringen kan være utilgjengelig i vedlikeholdsvinduet.',
    importance: 'important',
    type: 'maintenance',
    maintenance: { affectedSystem: 'Innlogging (IAM)', startsInHours: 48, hours: 2 },
    body:
      'Dette er et eksempel på et vedlikeholdsvarsel i demoinnholdet. Last ned kalenderoppføringen for å få ' +
      'vinduet inn i kalenderen din.',
  },
  {
    channel: 'bott-informasjon',
    title: 'Målbilde for administrative systemer',
    importance: 'important',
    body: [
      'Tjenestene som blir innført ved de fire universitetene, er et tiltak for å nå dette målbildet:',
      [
        '- Alle tjenester, informasjon og kommunikasjon er så langt det er mulig, digitalt tilgjengelige.',
        '- Behov, brukervennlighet og brukeropplevelser er hovedkriteriene for realiseringen av nye løsninger.',
        '- Administrative arbeidsprosesser og brukergrensesnitt er forbedret og effektivisert gjennom standardisering ' +
          'og digitalisering.',
        '- Det er etablert en felles systemportefølje som løser tverrgående administrative behov (budsjett, ' +
          'regnskap, lønn, innkjøp osv.).',
        '- Mulighetene for automatisering og selvbetjening er godt utnyttet slik at tjenestene framstår som enkle, ' +
          'effektive og brukervennlige.',
      ].join('\n'),
      '**Visjon:** Effektive tjenester og frigjorte ressurser gjennom digitalisering.',
    ].join('\n\n'),
  },
];

export const DEMO_AUTHOR_NAME = 'BOTT-sekretariatet';

/** Serialises seeding across processes (an arbitrary constant: "mkseed" in ASCII). */
const SEED_LOCK_KEY = 0x6d6b73656564n;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * Loads the demo content unless the database already has channels. Idempotent and safe when several processes start
 * at once: the check and the inserts run in one transaction under a transaction-scoped advisory lock, so the second
 * process waits, then sees the first one's channels and does nothing.
 *
 * The announcements are written without outbox events: they are history for the demo, not news to fan out.
 */
export async function seedDemoContent(db: Db): Promise<{ created: boolean }> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK_KEY}::bigint)`;
      if ((await tx.channel.count()) > 0) return { created: false };

      for (const organisation of DEMO_ORGANISATIONS) {
        // An organisation an operator created before seeding is kept as it is.
        await tx.organisation.upsert({ where: { code: organisation.code }, create: organisation, update: {} });
      }

      const channelIds = new Map<string, string>();
      for (const channel of DEMO_CHANNELS) {
        const created = await tx.channel.create({ data: channel });
        channelIds.set(channel.slug, created.id);
      }

      // The demo announcements' author: the collaboration's secretariat, a name only (no sign-in identity, no
      // address). Without one, every demo page would say "written by a former user", which is how pages speak of
      // an erased account.
      const author = await tx.user.create({ data: { displayName: DEMO_AUTHOR_NAME } });

      const now = Date.now();
      for (const [index, announcement] of DEMO_ANNOUNCEMENTS.entries()) {
        const publishedAt = new Date(now - (DEMO_ANNOUNCEMENTS.length - index) * MINUTE_MS);
        const translations = (announcement.translations ?? []).map((t) => ({ ...t, summary: t.summary ?? null }));
        const window = announcement.maintenance;
        const created = await tx.announcement.create({
          data: {
            channelId: channelIds.get(announcement.channel)!,
            authorId: author.id,
            language: 'nb',
            title: announcement.title,
            summary: announcement.summary ?? null,
            body: announcement.body,
            importance: announcement.importance,
            type: announcement.type ?? 'general',
            ...(window
              ? {
                  affectedSystem: window.affectedSystem,
                  startsAt: new Date(now + window.startsInHours * HOUR_MS),
                  endsAt: new Date(now + (window.startsInHours + window.hours) * HOUR_MS),
                }
              : {}),
            status: 'published',
            publishedAt,
            translations: { create: translations },
          },
        });
        // Revision 1, as publishing writes it, so the revision history of demo content is not empty.
        await tx.announcementRevision.create({
          data: {
            announcementId: created.id,
            revision: 1,
            editorId: author.id,
            material: true,
            createdAt: publishedAt,
            content: {
              language: 'nb',
              title: announcement.title,
              summary: announcement.summary ?? null,
              body: announcement.body,
              translations,
            },
          },
        });
      }
      return { created: true };
    },
    // Waiting for another process's seed happens inside this transaction; give it room beyond the 5 s default.
    { maxWait: 10_000, timeout: 30_000 },
  );
}
