import { expect, test } from 'bun:test';
import { deviceHref, safeNextPath } from './navigation.ts';

test.each([
  ['/devices?search=a', '/devices?search=a'],
  ['/devices/d%201', '/devices/d%201'],
  [null, '/'],
  ['', '/'],
  ['https://evil.example/', '/'],
  ['//evil.example/x', '/'],
  ['/\\evil.example', '/'],
  ['devices', '/'],
])('next %p leads to %p', (next, expected) => {
  expect(safeNextPath(next, '/')).toBe(expected);
});

test('device pages encode the device id as one path segment', () => {
  expect(deviceHref('plant/1#a?b%')).toBe('/devices/plant%2F1%23a%3Fb%25');
});
