/**
 * The drizzle database type every store is written against: one type for PGlite and
 * PostgreSQL (both are drizzle `PgDatabase`s over the same schema), and for their transactions.
 * @module
 */

import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.ts';

export type HubDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;
