/** Signing in and out (src/http/routes/auth.ts): the pages for a sign-in that did not work, and the sign-out step. */
import { defineMessages } from '../define.js';

export const signIn = defineMessages(
  {
    'signIn.failed.title': 'Innloggingen mislyktes',
    'signIn.failed.text': 'Vi kunne ikke fullføre innloggingen. Du er ikke logget inn. Prøv igjen.',
    'signIn.unavailable.title': 'Innloggingen er utilgjengelig',
    'signIn.unavailable.text': 'Innloggingstjenesten svarer ikke akkurat nå. Prøv igjen om litt.',
    'signIn.notConfigured.title': 'Innlogging er ikke satt opp',
    'signIn.notConfigured.text': 'Denne installasjonen har ingen innloggingstjeneste konfigurert.',
    'signIn.retry': 'Prøv å logge inn igjen',
    'signOut.title': 'Logg ut',
    'signOut.question': 'Vil du logge ut av Meldingskanal?',
    'signOut.notSignedIn': 'Du er ikke logget inn.',
  },
  {
    nn: {
      'signIn.failed.title': 'Innlogginga mislukkast',
      'signIn.failed.text': 'Vi kunne ikkje fullføre innlogginga. Du er ikkje logga inn. Prøv igjen.',
      'signIn.unavailable.title': 'Innlogginga er utilgjengeleg',
      'signIn.unavailable.text': 'Innloggingstenesta svarar ikkje akkurat no. Prøv igjen om litt.',
      'signIn.notConfigured.title': 'Innlogging er ikkje sett opp',
      'signIn.notConfigured.text': 'Denne installasjonen har inga innloggingsteneste konfigurert.',
      'signIn.retry': 'Prøv å logge inn igjen',
      'signOut.title': 'Logg ut',
      'signOut.question': 'Vil du logge ut av Meldingskanal?',
      'signOut.notSignedIn': 'Du er ikkje logga inn.',
    },
    en: {
      'signIn.failed.title': 'Sign-in failed',
      'signIn.failed.text': 'We could not complete the sign-in. You are not signed in. Please try again.',
      'signIn.unavailable.title': 'Sign-in is unavailable',
      'signIn.unavailable.text': 'The sign-in service is not answering right now. Please try again shortly.',
      'signIn.notConfigured.title': 'Sign-in is not set up',
      'signIn.notConfigured.text': 'This installation has no sign-in provider configured.',
      'signIn.retry': 'Try signing in again',
      'signOut.title': 'Sign out',
      'signOut.question': 'Do you want to sign out of Meldingskanal?',
      'signOut.notSignedIn': 'You are not signed in.',
    },
  },
);
