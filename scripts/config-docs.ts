/**
 * Prints the configuration table (Markdown) generated from src/config.ts, for the README:
 *   npm run config:docs
 * tests/unit/readme-config.test.ts fails when the README's copy differs, so the two cannot drift apart.
 */
import { configTableMarkdown } from '../src/config.js';

process.stdout.write(`${configTableMarkdown()}\n`);
