#!/usr/bin/env bun
/**
 * Prints a service SAS token for one of the hub's shared access policies, read from
 * `<HUB_DATA_DIR>/hub.json`, for curl and other plain HTTP clients.
 *
 *   bun scripts/sas-token.ts [policy=iothubowner] [lifetimeSeconds=3600]
 *   curl --cacert data/ca.pem -H "Authorization: $(bun scripts/sas-token.ts)" https://localhost/devices/
 */

import { join } from 'node:path';
import { parseIotHubConnectionString, sasRecipes } from '@tributary/core';

const [policy = 'iothubowner', lifetime = '3600'] = process.argv.slice(2);
const dataDir = process.env.HUB_DATA_DIR ?? 'data';
const info = await Bun.file(join(dataDir, 'hub.json')).json().catch(() => {
  console.error(`No ${join(dataDir, 'hub.json')}: start the hub first (bun run start), or set HUB_DATA_DIR.`);
  process.exit(1);
});
const text = info.connectionStrings?.[policy];
if (!text) {
  console.error(`No policy '${policy}'; the hub has: ${Object.keys(info.connectionStrings ?? {}).join(', ')}`);
  process.exit(1);
}
const parsed = parseIotHubConnectionString(text);
if (parsed.kind !== 'service') throw new Error('expected a service connection string');
const expiresAt = Math.floor(Date.now() / 1000) + Number(lifetime);
console.log(sasRecipes.service(parsed.hostName, parsed.sharedAccessKeyName, parsed.sharedAccessKey, expiresAt));
