/** The front page. */
import { defineMessages } from '../define.js';

export const home = defineMessages(
  {
    'home.latest.heading': 'Siste kunngjøringer',
    'home.latest.none': 'Ingen kunngjøringer du kan lese ennå.',
    'home.latest.search': 'Søk i alle kunngjøringer',
    'home.channels.all': 'Se alle kanaler',
    'home.signInHint': 'Logg inn for å se interne kanaler, abonnere og få kunngjøringer på e-post.',
    'home.channels.heading': 'Kanaler',
    'home.channels.filter': 'Finn en kanal',
    'home.channels.filterButton': 'Finn',
    'home.channels.none': 'Det er ingen kanaler du kan lese ennå.',
    'home.channels.noMatch': 'Ingen kanaler passer til søket.',
    'home.channels.subscribers': { one: '{count} abonnent', other: '{count} abonnenter' },
    'home.channels.latest': 'Siste:',
    'home.feed.public': 'Alle offentlige kanaler',
    'home.feed.text':
      'Følg de offentlige kanalene i en feedleser. Interne kanaler får du som en personlig feed-adresse når du er logget inn.',
  },
  {
    nn: {
      'home.latest.heading': 'Siste kunngjeringar',
      'home.latest.none': 'Ingen kunngjeringar du kan lese enno.',
      'home.latest.search': 'Søk i alle kunngjeringar',
      'home.channels.all': 'Sjå alle kanalar',
      'home.signInHint': 'Logg inn for å sjå interne kanalar, abonnere og få kunngjeringar på e-post.',
      'home.channels.heading': 'Kanalar',
      'home.channels.filter': 'Finn ein kanal',
      'home.channels.filterButton': 'Finn',
      'home.channels.none': 'Det er ingen kanalar du kan lese enno.',
      'home.channels.noMatch': 'Ingen kanalar passar til søket.',
      'home.channels.subscribers': { one: '{count} abonnent', other: '{count} abonnentar' },
      'home.channels.latest': 'Siste:',
      'home.feed.public': 'Alle offentlege kanalar',
      'home.feed.text':
        'Følg dei offentlege kanalane i ein feedlesar. Interne kanalar får du som ei personleg feed-adresse når du er logga inn.',
    },
    en: {
      'home.latest.heading': 'Latest announcements',
      'home.latest.none': 'No announcements you can read yet.',
      'home.latest.search': 'Search all announcements',
      'home.channels.all': 'See all channels',
      'home.signInHint': 'Sign in to see internal channels, subscribe and get announcements by e-mail.',
      'home.channels.heading': 'Channels',
      'home.channels.filter': 'Find a channel',
      'home.channels.filterButton': 'Find',
      'home.channels.none': 'There are no channels you can read yet.',
      'home.channels.noMatch': 'No channels match your search.',
      'home.channels.subscribers': { one: '{count} subscriber', other: '{count} subscribers' },
      'home.channels.latest': 'Latest:',
      'home.feed.public': 'All public channels',
      'home.feed.text':
        'Follow the public channels in a feed reader. Internal channels are available as a personal feed address once you are signed in.',
    },
  },
);
