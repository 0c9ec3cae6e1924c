/**
 * The one committed migrations folder (`packages/db/drizzle`), applied at start on PGlite
 * (open-pglite.ts) and PostgreSQL (open-postgres.ts), and into every PGlite template.
 * @module
 */

import { fileURLToPath } from 'node:url';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url));
