import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { createDeviceSasToken } from './sas-token.ts';

const key = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');

function expectedToken(hostName: string, deviceId: string, expiry: number): string {
  const sr = encodeURIComponent(`${hostName}/devices/${deviceId}`);
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${expiry}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiry}`;
}

describe('createDeviceSasToken', () => {
  test('signs the url-encoded resource and expiry with the base64 key, as node:crypto does', async () => {
    const token = await createDeviceSasToken({ hostName: 'hub.example.com', deviceId: 'sensor-1', key, expiresAtEpochS: 1_900_000_000 });
    expect(token).toBe(expectedToken('hub.example.com', 'sensor-1', 1_900_000_000));
  });

  test('encodes a host with a port and a device id with reserved characters', async () => {
    const token = await createDeviceSasToken({ hostName: 'localhost:8443', deviceId: 'a b:c@d', key, expiresAtEpochS: 1_700_000_000 });
    expect(token).toBe(expectedToken('localhost:8443', 'a b:c@d', 1_700_000_000));
    expect(token).toContain('sr=localhost%3A8443%2Fdevices%2Fa%20b%3Ac%40d&');
  });

  test('drops fractions of a second from the expiry', async () => {
    const token = await createDeviceSasToken({ hostName: 'h', deviceId: 'd', key, expiresAtEpochS: 1_800_000_000.9 });
    expect(token).toEndWith('&se=1800000000');
  });
});
