#!/usr/bin/env node
// Builds the browser assets of the web app and the widget into dist/web/ (see src/web/README.md):
//
// - every module in src/web/client/entries/*.ts becomes `<name>-<hash>.js` (ES modules, shared code split into
//   chunks), the site's style sheet src/web/styles/app.css (Designsystemet + theme + ours) `app-<hash>.css`;
// - every module in src/web/client/standalone/*.ts one self-contained `<name>-<hash>.js` with no shared chunks: the
//   widget (standalone/widget.ts) runs on other sites' pages and must be one request, sharing nothing with the app;
// - every file is also written gzip- and brotli-compressed beside itself, so the server sends the smallest one the
//   browser accepts without compressing per request;
// - manifest.json maps logical names (`app.css`, `entries/feed.js`, `widget.js`) to the fingerprinted files. The
//   server reads only the manifest (src/web/assets.ts) and serves the files with year-long immutable caching.
//
// Runs from postinstall (so `npm ci && npm start` works), from `npm run build` (the Docker image), before
// `npm start`, and from the tests' global setup: a changed client module is never served stale. Takes well under a
// second; nothing is fetched from the network.
//
// Safe while servers are starting from dist/web (parallel test runs): everything is built in a temporary directory
// beside it and moved in file by file, the manifest last; files are fingerprinted, so no file a manifest names is
// ever overwritten with other content or removed.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clientDir = join(root, 'src', 'web', 'client');
const outDir = join(root, 'dist', 'web');

/** Browsers the university desktops and phones run; the widget must also work in host pages' older browsers. */
const TARGET = ['es2020', 'chrome100', 'firefox100', 'safari15'];

export async function buildWeb({ quiet = false } = {}) {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error(
      'esbuild is not installed, so the web assets cannot be built: run `npm ci` (with dev dependencies).',
    );
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  const buildDir = mkdtempSync(join(root, 'dist', '.web-build-'));
  try {
    return await buildInto(esbuild, buildDir, quiet);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
}

async function buildInto(esbuild, buildDir, quiet) {
  const modulesIn = (folder) =>
    existsSync(join(clientDir, folder))
      ? readdirSync(join(clientDir, folder))
          .filter((file) => file.endsWith('.ts'))
          .map((file) => join(clientDir, folder, file))
      : [];

  const common = {
    bundle: true,
    minify: true,
    format: 'esm',
    target: TARGET,
    outdir: buildDir,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
  };
  const app = await esbuild.build({
    ...common,
    entryPoints: [...modulesIn('entries'), join(root, 'src', 'web', 'styles', 'app.css')],
    splitting: true,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    // Designsystemet's CSS refers to its icons as data: URIs only; anything else would be a surprise worth failing on.
    loader: { '.woff2': 'file' },
  });
  const standalone = await esbuild.build({
    ...common,
    entryPoints: modulesIn('standalone'),
    splitting: false,
    entryNames: '[name]-[hash]',
  });

  const manifest = {};
  for (const result of [app, standalone]) {
    for (const [output, meta] of Object.entries(result.metafile.outputs)) {
      if (output.endsWith('.map')) continue;
      const file = relative(buildDir, join(root, output));
      if (meta.entryPoint) {
        const source = relative(clientDir, join(root, meta.entryPoint));
        // `app.css`, `entries/feed.js`, `widget.js` (standalone modules by their bare name).
        const logical = meta.entryPoint.endsWith('.css')
          ? basename(meta.entryPoint)
          : source.replace(/^standalone\//, '').replace(/\.ts$/, '.js');
        manifest[logical] = file;
      }
      compressBeside(join(buildDir, file));
    }
  }
  for (const file of listFiles(buildDir)) {
    mkdirSync(dirname(join(outDir, file)), { recursive: true });
    renameSync(join(buildDir, file), join(outDir, file));
  }
  writeFileSync(join(buildDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(join(buildDir, 'manifest.json'), join(outDir, 'manifest.json'));
  if (!quiet) {
    for (const [name, file] of Object.entries(manifest)) {
      const size = readFileSync(join(outDir, `${file}.gz`)).length;
      console.log(`web asset ${name} → dist/web/${file} (${(size / 1024).toFixed(1)} KB gzipped)`);
    }
  }
  return manifest;
}

/** Files under `dir`, as paths relative to it. */
function listFiles(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
  );
}

function compressBeside(path) {
  const body = readFileSync(path);
  writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
  writeFileSync(
    `${path}.br`,
    brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWeb().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
