// Serves the inspector's static files (HTML, CSS, JS modules) from the assets folder next to the compiled code.
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The folder of the inspector's files: `dist/inspector/assets` when built, `src/inspector/assets` under tsx. */
function inspectorAssetsDir(): string {
  return fileURLToPath(new URL('../inspector/assets/', import.meta.url));
}

/** Routes `/` (the inspector page) and `/assets/*` (its files). Absent files get a plain 404. */
export function inspectorRoutes(root: string = inspectorAssetsDir()): Hono {
  const app = new Hono();
  const available = existsSync(root);
  app.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-cache');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Frame-Options', 'DENY');
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    await next();
  });
  if (!available) {
    app.get('/', (c) => c.text(`The inspector's files are missing from ${root}; run "npm run build"`, 404));
    return app;
  }
  app.get('/', serveStatic({ root, path: 'index.html' }));
  app.get('/runs/*', serveStatic({ root, path: 'index.html' }));
  app.get('/assets/*', serveStatic({ root, rewriteRequestPath: (path) => path.replace(/^\/assets\//, '') }));
  return app;
}
