/**
 * Every store contract of core on PGlite and on PostgreSQL: the drizzle stores must behave as the
 * in-memory ones do (aedes-persistence's abstract suite, drizzle's pg-common.ts), each on a fresh
 * database migrated through openDb.
 */

import {
  c2dStoreContract,
  certificateStoreContract,
  eventStoreContract,
  filesStoreContract,
  storeContract,
  twinStoreContract,
} from '@tributary/core/testing';
import { forEachDatabase } from './databases.ts';

forEachDatabase((name, open) => {
  storeContract(name, open);
  eventStoreContract(name, async () => {
    const { stores, close } = await open();
    return { store: stores.events, close };
  });
  twinStoreContract(name, async () => {
    const { stores, close } = await open();
    return { registry: stores.registry, twins: stores.twins, close };
  });
  c2dStoreContract(name, async () => {
    const { stores, close } = await open();
    return { registry: stores.registry, c2d: stores.c2d, close };
  });
  certificateStoreContract(name, async () => {
    const { stores, close } = await open();
    return { store: stores.certificates, close };
  });
  filesStoreContract(name, async () => {
    const { stores, close } = await open();
    return { store: stores.files, close };
  });
});
