/** The front page. */
import { defineMessages } from '../define.js';

export const home = defineMessages(
  {
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
