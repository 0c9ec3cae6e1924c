/**
 * Serves the built console (apps/web/build, a static SPA) on the hub's HTTP(S) ports: files by
 * path, and index.html for browser navigations that no API route took (the SPA routes itself).
 * A navigation is a GET whose Accept names text/html; SDKs and curl never send that. `/health`
 * and the console's own API (`/console/api/…`, e.g. the CA certificate download link) are never pages.
 * @module
 */

import { existsSync } from 'node:fs';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/build', import.meta.url));

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Tributary</title>
<h1>Tributary</h1><p>The console has not been built. Run <code>bun run build</code> (or start the hub with <code>bun run start</code>, which builds it).</p>`;

export function createConsoleAssets(consoleDir: string = DEFAULT_CONSOLE_DIR) {
  const root = normalize(consoleDir) + sep;
  const isBuilt = existsSync(join(root, 'index.html'));

  const fileAt = async (pathname: string) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    const path = normalize(join(root, decoded));
    if (!path.startsWith(root)) return undefined;
    const file = Bun.file(path);
    return (await file.exists()) && !path.endsWith(sep) ? file : undefined;
  };

  return {
    isBuilt,
    /** The console's response to `request`, or undefined when it is not the console's to answer. */
    async respond(request: Request): Promise<Response | undefined> {
      if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
      const url = new URL(request.url);
      const isNavigation = (request.headers.get('accept') ?? '').includes('text/html');
      const isApi = url.pathname === '/health' || url.pathname.startsWith('/console/api/');
      if (url.pathname === '/' || (isNavigation && !isApi)) {
        if (!isBuilt) return new Response(NOT_BUILT, { headers: { 'content-type': 'text/html; charset=utf-8' } });
        const asset = url.pathname === '/' ? undefined : await fileAt(url.pathname);
        return new Response(asset ?? Bun.file(join(root, 'index.html')), {
          headers: asset ? {} : { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' },
        });
      }
      const isImmutable = url.pathname.startsWith('/_app/immutable/');
      // Hashed bundles under /_app/, and the static files at the root of the build (favicon.svg).
      const isStatic = url.pathname.startsWith('/_app/') || /^\/[^/]+\.[a-z0-9]+$/i.test(url.pathname);
      const asset = isBuilt && isStatic ? await fileAt(url.pathname) : undefined;
      if (!asset) return undefined;
      return new Response(asset, { headers: { 'cache-control': isImmutable ? 'public, max-age=31536000, immutable' : 'no-cache' } });
    },
  };
}
