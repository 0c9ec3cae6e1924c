import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from '@tributary/core/testing';
import { openDb } from '../src/index.ts';

storeContract('pglite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-pglite-'));
  const opened = await openDb({ dataDir });
  return {
    stores: opened.stores,
    async close() {
      await opened.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});
