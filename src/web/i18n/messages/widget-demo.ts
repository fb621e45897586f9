/** The widget's demo page (GET /widget/demo, development only: src/web/pages/widget-demo.tsx). */
import { defineMessages } from '../define.js';

export const widgetDemo = defineMessages(
  {
    'widgetDemo.title': 'Widget for intranettsider',
    'widgetDemo.lead':
      'Slik ser kunngjøringene ut når en intranettside viser dem med widgeten. Den oppdateres fortløpende, og passer i en smal sidekolonne og i en bred spalte.',
    'widgetDemo.sidebar': 'Smal sidekolonne',
    'widgetDemo.column': 'Bred spalte',
    'widgetDemo.intranetTitle': 'Intranettet (eksempel)',
    'widgetDemo.intranetText':
      'Her står innholdet på intranettsiden. Widgeten arver sidens skrift og kan tilpasses med CSS-variabler.',
    'widgetDemo.snippetHeading': 'Kode å lime inn',
    'widgetDemo.snippetText':
      'Lim inn disse to linjene der kunngjøringene skal stå. Siden må ligge på en adresse som tjenesten tillater (WIDGET_ORIGINS).',
    'widgetDemo.noChannel': 'Det finnes ingen offentlig kanal å vise ennå.',
    'widgetDemo.devOnly': 'Denne siden vises bare i utviklingsmiljøet.',
  },
  {
    nn: {
      'widgetDemo.title': 'Widget for intranettsider',
      'widgetDemo.lead':
        'Slik ser kunngjeringane ut når ei intranettside viser dei med widgeten. Han blir oppdatert fortløpande, og passar i ein smal sidekolonne og i ei brei spalte.',
      'widgetDemo.sidebar': 'Smal sidekolonne',
      'widgetDemo.column': 'Brei spalte',
      'widgetDemo.intranetTitle': 'Intranettet (døme)',
      'widgetDemo.intranetText':
        'Her står innhaldet på intranettsida. Widgeten arvar skrifta til sida og kan tilpassast med CSS-variablar.',
      'widgetDemo.snippetHeading': 'Kode å lime inn',
      'widgetDemo.snippetText':
        'Lim inn desse to linjene der kunngjeringane skal stå. Sida må liggje på ei adresse som tenesta tillèt (WIDGET_ORIGINS).',
      'widgetDemo.noChannel': 'Det finst ingen offentleg kanal å vise enno.',
      'widgetDemo.devOnly': 'Denne sida blir berre vist i utviklingsmiljøet.',
    },
    en: {
      'widgetDemo.title': 'Widget for intranet pages',
      'widgetDemo.lead':
        'This is how the announcements look when an intranet page shows them with the widget. It updates live, and fits a narrow sidebar as well as a wide column.',
      'widgetDemo.sidebar': 'Narrow sidebar',
      'widgetDemo.column': 'Wide column',
      'widgetDemo.intranetTitle': 'The intranet (example)',
      'widgetDemo.intranetText':
        "The intranet page's content goes here. The widget inherits the page's font and can be adjusted with CSS custom properties.",
      'widgetDemo.snippetHeading': 'Code to paste',
      'widgetDemo.snippetText':
        'Paste these two lines where the announcements should appear. The page must be on an address the service allows (WIDGET_ORIGINS).',
      'widgetDemo.noChannel': 'There is no public channel to show yet.',
      'widgetDemo.devOnly': 'This page is shown in the development environment only.',
    },
  },
);
