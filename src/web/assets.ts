/**
 * The built browser assets (scripts/build-web.mjs → dist/web/): the manifest that maps logical names (`app.css`,
 * `entries/feed.js`, `widget.js`) to fingerprinted files, and the files themselves, read into memory once at start
 * (they are small, and a request for one must cost no disk read). Each file is kept as built and pre-compressed
 * (gzip, brotli), with its ETag.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { PROJECT_ROOT } from '../paths.js';

export const WEB_ASSETS_DIR = join(PROJECT_ROOT, 'dist', 'web');

/** Where fingerprinted assets are served; their names change with their content, so they are cached for a year. */
export const ASSETS_PATH = '/assets';

export type AssetEncoding = 'br' | 'gzip' | 'identity';

export interface AssetFile {
  /** `app-3F2A….css`, relative to dist/web (chunks live under `chunks/`). */
  readonly file: string;
  readonly contentType: string;
  readonly etag: string;
  readonly bodies: Readonly<Record<AssetEncoding, Buffer>>;
}

export interface WebAssets {
  /** The URL path of a logical asset (`/assets/app-3F2A….css`); throws for a name the build did not produce. */
  url(name: string): string;
  /** A built file by its fingerprinted name, or undefined. */
  file(fingerprinted: string): AssetFile | undefined;
  /** The file behind a logical name. */
  entry(name: string): AssetFile;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Reads dist/web. Fails with what to do when the assets were never built. */
export function loadWebAssets(dir: string = WEB_ASSETS_DIR): WebAssets {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(
      `The web assets are not built (${manifestPath} is missing): run \`npm run build:web\` (npm ci and npm run build do it too)`,
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, string>;
  const files = new Map<string, AssetFile>();
  const load = (file: string): AssetFile => {
    const known = files.get(file);
    if (known) return known;
    const path = join(dir, file);
    const identity = readFileSync(path);
    const asset: AssetFile = {
      file,
      contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"`,
      bodies: {
        identity,
        gzip: existsSync(`${path}.gz`) ? readFileSync(`${path}.gz`) : identity,
        br: existsSync(`${path}.br`) ? readFileSync(`${path}.br`) : identity,
      },
    };
    files.set(file, asset);
    return asset;
  };
  for (const file of Object.values(manifest)) load(file);
  // Chunks that entries import are not in the manifest by name; they are loaded on first request (still from the
  // build directory only: the name is checked against the pattern esbuild writes).
  return {
    url(name) {
      const file = manifest[name];
      if (!file) throw new Error(`No web asset named ${name} (see dist/web/manifest.json)`);
      return `${ASSETS_PATH}/${file}`;
    },
    file(fingerprinted) {
      if (files.has(fingerprinted)) return files.get(fingerprinted);
      if (!/^chunks\/[\w-]+-[A-Z0-9]{8}\.js$/.test(fingerprinted)) return undefined;
      return existsSync(join(dir, fingerprinted)) ? load(fingerprinted) : undefined;
    },
    entry(name) {
      const file = manifest[name];
      if (!file) throw new Error(`No web asset named ${name} (see dist/web/manifest.json)`);
      return load(file);
    },
  };
}

/** The best encoding the client accepts among those we have (brotli, then gzip). */
export function preferredEncoding(acceptEncoding: string | undefined): AssetEncoding {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) : 1);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}
