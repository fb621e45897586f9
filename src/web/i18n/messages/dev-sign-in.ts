/**
 * The development sign-in's pages (src/auth/dev-provider.ts, src/web/pages/dev-sign-in.tsx). They are shown in
 * bokmål with the English alongside, whatever the browser prefers: developers of any language use them, and the
 * browser tests drive them by their bokmål names.
 */
import { defineMessages } from '../define.js';

export const devSignIn = defineMessages(
  {
    'devSignIn.pick.title': 'Velg demokonto',
    'devSignIn.pick.heading': 'Velg en demokonto',
    'devSignIn.pick.text':
      'Dette er en lokal innlogging for utvikling og testing. Ingen passord: velg hvem du vil være.',
    'devSignIn.pick.legend': 'Demokontoer',
    'devSignIn.pick.cancel': 'Avbryt innloggingen',
    'devSignIn.logout.title': 'Logg ut',
    'devSignIn.logout.heading': 'Logge ut av utviklingsinnloggingen?',
    'devSignIn.logout.text': 'Meldingskanal har logget deg ut. Vil du også avslutte økten hos utviklingsinnloggingen?',
    'devSignIn.logout.yes': 'Ja, logg ut',
    'devSignIn.logout.no': 'Nei, forbli innlogget',
    'devSignIn.loggedOut.title': 'Logget ut',
    'devSignIn.loggedOut.heading': 'Du er logget ut',
    'devSignIn.error.title': 'Feil',
    'devSignIn.error.heading': 'Innloggingen feilet',
    'devSignIn.unknown.heading': 'Ukjent innlogging',
    'devSignIn.expired.heading': 'Innloggingen er utløpt eller ukjent',
    'devSignIn.expired.text': 'Start på nytt fra Meldingskanal.',
  },
  {
    nn: {
      'devSignIn.pick.title': 'Vel demokonto',
      'devSignIn.pick.heading': 'Vel ein demokonto',
      'devSignIn.pick.text':
        'Dette er ei lokal innlogging for utvikling og testing. Ingen passord: vel kven du vil vere.',
      'devSignIn.pick.legend': 'Demokontoar',
      'devSignIn.pick.cancel': 'Avbryt innlogginga',
      'devSignIn.logout.title': 'Logg ut',
      'devSignIn.logout.heading': 'Logge ut av utviklingsinnlogginga?',
      'devSignIn.logout.text': 'Meldingskanal har logga deg ut. Vil du òg avslutte økta hos utviklingsinnlogginga?',
      'devSignIn.logout.yes': 'Ja, logg ut',
      'devSignIn.logout.no': 'Nei, bli verande innlogga',
      'devSignIn.loggedOut.title': 'Logga ut',
      'devSignIn.loggedOut.heading': 'Du er logga ut',
      'devSignIn.error.title': 'Feil',
      'devSignIn.error.heading': 'Innlogginga feila',
      'devSignIn.unknown.heading': 'Ukjend innlogging',
      'devSignIn.expired.heading': 'Innlogginga har gått ut eller er ukjend',
      'devSignIn.expired.text': 'Start på nytt frå Meldingskanal.',
    },
    en: {
      'devSignIn.pick.title': 'Choose a demo account',
      'devSignIn.pick.heading': 'Choose a demo account',
      'devSignIn.pick.text': 'This is a local sign-in for development. No passwords: choose who you want to be.',
      'devSignIn.pick.legend': 'Demo accounts',
      'devSignIn.pick.cancel': 'Cancel the sign-in',
      'devSignIn.logout.title': 'Sign out',
      'devSignIn.logout.heading': 'Sign out of the development sign-in?',
      'devSignIn.logout.text': 'Meldingskanal has signed you out. Also end the session at the development sign-in?',
      'devSignIn.logout.yes': 'Yes, sign out',
      'devSignIn.logout.no': 'No, stay signed in',
      'devSignIn.loggedOut.title': 'Signed out',
      'devSignIn.loggedOut.heading': 'You are signed out',
      'devSignIn.error.title': 'Error',
      'devSignIn.error.heading': 'The sign-in failed',
      'devSignIn.unknown.heading': 'Unknown sign-in',
      'devSignIn.expired.heading': 'This sign-in expired or is unknown',
      'devSignIn.expired.text': 'Start again from Meldingskanal.',
    },
  },
);
