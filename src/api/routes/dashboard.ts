/**
 * The web dashboard (web/, built into web/dist by `npm run build:web`), served at `/` on the
 * API's own origin so it needs no CORS and uses the same API keys. Hashed assets are cached for
 * a year; index.html is revalidated every time so a new build is picked up at once. Client-side
 * routes are listed explicitly (never a catch-all), so the API, /docs, /openapi.json, /health,
 * /ready and the original design's routes can never be shadowed, and unknown paths keep the
 * JSON 404.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

const DEFAULT_DIST = path.resolve(import.meta.dirname, '../../../web/dist');

/** Pages of the single-page app; each answers index.html and the app routes in the browser. */
export const DASHBOARD_PAGES = ['/', '/folders', '/folders/*', '/documents/:id', '/jobs', '/jobs/:id', '/taxonomies', '/sources', '/review', '/review/*', '/evaluations', '/webhooks', '/search'] as const;

/**
 * Everything the dashboard loads comes from this origin (the machine may be offline): the
 * policy makes a stray CDN reference fail loudly in development instead of silently in the field.
 * Inline styles are allowed because the chart library positions its SVG with style attributes.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>docsight</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>The dashboard is not built</h1>
<p>Run <code>npm run build:web</code> (or <code>npm install</code>, which builds it) and reload this page.
The API answers meanwhile: see <a href="/docs">/docs</a>.</p></body></html>`;

export interface DashboardOptions {
  /** Directory of the built app (default: web/dist in this checkout). */
  distDir?: string;
}

export const dashboardRoutes =
  (opts: DashboardOptions = {}): FastifyPluginAsync =>
  async (app) => {
    const dist = opts.distDir ?? DEFAULT_DIST;
    const indexFile = path.join(dist, 'index.html');
    const assets = path.join(dist, 'assets');

    if (existsSync(assets)) {
      // Only /assets/ is a file tree; file names carry a content hash, so they never change.
      await app.register(fastifyStatic, {
        root: assets,
        prefix: '/assets/',
        wildcard: true,
        index: false,
        maxAge: '365d',
        immutable: true,
        schemaHide: true,
        dotfiles: 'deny',
      });
    } else {
      app.log.warn({ dist }, 'dashboard not built: run `npm run build:web`; the API works without it');
    }

    const page = async (reply: FastifyReply) => {
      void reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .type('text/html; charset=utf-8');
      // Read per request (it is half a kilobyte): a rebuild while the server runs is served at once.
      const html = await readFile(indexFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (html === null) return reply.status(503).send(NOT_BUILT);
      return reply.send(html);
    };

    for (const url of DASHBOARD_PAGES) {
      app.get(url, { schema: { hide: true } }, async (_req, reply) => page(reply));
    }
  };
