/**
 * The embeddable widget's bundle (logical asset `widget.js`, served through the stable GET /widget.js): one
 * self-contained module that defines `<meldingskanal-feed>`. It talks to the service it was loaded from — this
 * module's own origin — whatever page embeds it. Source: ../widget/, the live client: ../live/.
 */
import { defineWidget } from '../widget/element.js';

defineWidget(new URL(import.meta.url).origin);
