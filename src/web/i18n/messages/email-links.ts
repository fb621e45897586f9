/** The pages behind the links in e-mails: unsubscribe, and confirm an e-mail subscription. */
import { defineMessages } from '../define.js';

export const emailLinks = defineMessages(
  {
    'emailLink.invalidTitle': 'Lenken virker ikke',
    'emailLink.unsubscribe.title': 'Meld av e-post',
    'emailLink.unsubscribe.question': 'Vil du slutte å få e-post fra «{channel}»?',
    'emailLink.unsubscribe.explanation': 'Du kan melde deg på igjen når som helst i Meldingskanal.',
    'emailLink.unsubscribe.button': 'Meld meg av',
    'emailLink.unsubscribe.doneTitle': 'Du er meldt av',
    'emailLink.unsubscribe.done': 'Du får ikke lenger e-post fra «{channel}».',
    'emailLink.unsubscribe.invalid':
      'Lenken er ugyldig eller ikke lenger i bruk. Du kan endre abonnementene dine i Meldingskanal.',
    'emailLink.confirm.title': 'Bekreft abonnement',
    'emailLink.confirm.question': 'Vil du få kunngjøringer fra «{channel}» på e-post?',
    'emailLink.confirm.button': 'Bekreft',
    'emailLink.confirm.doneTitle': 'Abonnementet er bekreftet',
    'emailLink.confirm.done': 'Du får nå kunngjøringer fra «{channel}» på e-post.',
    'emailLink.confirm.howToLeave': 'Hver e-post har en lenke nederst som melder deg av med ett klikk.',
    'emailLink.confirm.invalid':
      'Lenken er ugyldig eller utløpt. Meld deg på igjen fra kanalens side i Meldingskanal for å få en ny.',
  },
  {
    nn: {
      'emailLink.invalidTitle': 'Lenkja verkar ikkje',
      'emailLink.unsubscribe.title': 'Meld av e-post',
      'emailLink.unsubscribe.question': 'Vil du slutte å få e-post frå «{channel}»?',
      'emailLink.unsubscribe.explanation': 'Du kan melde deg på att når som helst i Meldingskanal.',
      'emailLink.unsubscribe.button': 'Meld meg av',
      'emailLink.unsubscribe.doneTitle': 'Du er meld av',
      'emailLink.unsubscribe.done': 'Du får ikkje lenger e-post frå «{channel}».',
      'emailLink.unsubscribe.invalid':
        'Lenkja er ugyldig eller ikkje lenger i bruk. Du kan endre abonnementa dine i Meldingskanal.',
      'emailLink.confirm.title': 'Stadfest abonnement',
      'emailLink.confirm.question': 'Vil du få kunngjeringar frå «{channel}» på e-post?',
      'emailLink.confirm.button': 'Stadfest',
      'emailLink.confirm.doneTitle': 'Abonnementet er stadfest',
      'emailLink.confirm.done': 'Du får no kunngjeringar frå «{channel}» på e-post.',
      'emailLink.confirm.howToLeave': 'Kvar e-post har ei lenkje nedst som meld deg av med eitt klikk.',
      'emailLink.confirm.invalid':
        'Lenkja er ugyldig eller gått ut. Meld deg på att frå sida til kanalen i Meldingskanal for å få ei ny.',
    },
    en: {
      'emailLink.invalidTitle': 'This link does not work',
      'emailLink.unsubscribe.title': 'Unsubscribe from e-mail',
      'emailLink.unsubscribe.question': 'Do you want to stop receiving e-mails from “{channel}”?',
      'emailLink.unsubscribe.explanation': 'You can subscribe again at any time on Meldingskanal.',
      'emailLink.unsubscribe.button': 'Unsubscribe',
      'emailLink.unsubscribe.doneTitle': 'You are unsubscribed',
      'emailLink.unsubscribe.done': 'You will no longer receive e-mails from “{channel}”.',
      'emailLink.unsubscribe.invalid':
        'The link is invalid or no longer in use. You can change your subscriptions on Meldingskanal.',
      'emailLink.confirm.title': 'Confirm subscription',
      'emailLink.confirm.question': 'Do you want to receive announcements from “{channel}” by e-mail?',
      'emailLink.confirm.button': 'Confirm',
      'emailLink.confirm.doneTitle': 'Your subscription is confirmed',
      'emailLink.confirm.done': 'You will now receive announcements from “{channel}” by e-mail.',
      'emailLink.confirm.howToLeave': 'Every e-mail has a link at the bottom that unsubscribes you with one click.',
      'emailLink.confirm.invalid':
        "The link is invalid or has expired. Subscribe again from the channel's page on Meldingskanal to get a new one.",
    },
  },
);
