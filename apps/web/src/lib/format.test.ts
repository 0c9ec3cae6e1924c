import { describe, expect, test } from 'bun:test';
import { deviceConnectionString, errorText, formatAge, formatCount, formatHubTime, formatRange, isNever, NEVER_TIME } from './format.ts';

describe('isNever', () => {
  test.each([[NEVER_TIME], ['0001-01-01T00:00:00.0000000Z'], [''], [null], [undefined], ['not a date']])(
    '%p means never',
    (time) => {
      expect(isNever(time)).toBe(true);
    },
  );

  test('a real time is not never', () => {
    expect(isNever('2024-05-01T10:00:00Z')).toBe(false);
  });
});

describe('formatHubTime', () => {
  test('IoT Hub never reads Never', () => {
    expect(formatHubTime(NEVER_TIME)).toBe('Never');
  });

  test('a real time is formatted with the given format', () => {
    const utc = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', dateStyle: 'short', timeStyle: 'short' });
    expect(formatHubTime('2024-05-01T10:20:00Z', utc)).toBe('01/05/2024, 10:20');
  });
});

describe('formatAge', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  test.each([
    ['2024-05-01T12:00:03Z', 'just now'],
    ['2024-05-01T11:59:58Z', 'just now'],
    ['2024-05-01T11:59:18Z', '42 s ago'],
    ['2024-05-01T11:55:00Z', '5 min ago'],
    ['2024-05-01T09:00:00Z', '3 h ago'],
    ['2024-04-29T12:00:00Z', '2 d ago'],
    [NEVER_TIME, 'Never'],
  ])('%p reads %p', (time, expected) => {
    expect(formatAge(time, now)).toBe(expected);
  });
});

describe('formatRange', () => {
  test.each([
    [0, 50, 1234, '1–50 of 1,234'],
    [50, 50, 1234, '51–100 of 1,234'],
    [1200, 34, 1234, '1,201–1,234 of 1,234'],
    [0, 0, 0, '0 of 0'],
  ])('offset %p with %p rows of %p reads %p', (offset, length, total, expected) => {
    expect(formatRange(offset, length, total)).toBe(expected);
  });
});

test('formatCount adds thousands separators', () => {
  expect(formatCount(1234567)).toBe('1,234,567');
});

test('deviceConnectionString has the shape the device SDKs parse', () => {
  expect(deviceConnectionString('hub.local', 'd1', 'a2V5')).toBe('HostName=hub.local;DeviceId=d1;SharedAccessKey=a2V5');
});

describe('errorText', () => {
  test('an Error shows its message as is, anything else as text', () => {
    expect(errorText(new Error('Device d1 not found'))).toBe('Device d1 not found');
    expect(errorText('timed out')).toBe('timed out');
    expect(errorText(404)).toBe('404');
  });
});
