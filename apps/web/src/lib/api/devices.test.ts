import { describe, expect, test } from 'bun:test';
import { deviceQueryString, type DeviceQuery } from './devices.ts';

const base: DeviceQuery = {
  search: '',
  status: '',
  connectionState: '',
  sort: 'deviceId',
  order: 'asc',
  offset: 0,
  limit: 50,
};

describe('deviceQueryString', () => {
  test('empty filters are left out', () => {
    expect(deviceQueryString(base)).toBe('sort=deviceId&order=asc&offset=0&limit=50');
  });

  test('every filter is sent, search trimmed', () => {
    const query = { ...base, search: '  therm ', status: 'disabled', connectionState: 'Connected', sort: 'lastActivityTime', order: 'desc', offset: 100 } as const;
    expect(deviceQueryString(query)).toBe(
      'search=therm&status=disabled&connectionState=Connected&sort=lastActivityTime&order=desc&offset=100&limit=50',
    );
  });

  test('search text is URL-encoded', () => {
    expect(new URLSearchParams(deviceQueryString({ ...base, search: 'a&b=c d' })).get('search')).toBe('a&b=c d');
  });

  test('a negative or fractional offset becomes a whole page start', () => {
    expect(deviceQueryString({ ...base, offset: -3 })).toContain('offset=0');
    expect(deviceQueryString({ ...base, offset: 50.7 })).toContain('offset=50');
  });
});
