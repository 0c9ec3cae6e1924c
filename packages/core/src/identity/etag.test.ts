import { describe, expect, test } from 'bun:test';
import { etagMatches, identityEtag, unquoteEtag } from './etag.ts';

describe('identityEtag', () => {
  test('is the base64 of the decimal version, as IoT Hub writes device etags', () => {
    expect(identityEtag(1)).toBe('MQ==');
    expect(identityEtag(12)).toBe('MTI=');
  });

  test('differs between versions', () => {
    expect(identityEtag(2)).not.toBe(identityEtag(1));
  });
});

describe('unquoteEtag', () => {
  test('strips the double quotes the SDKs put around If-Match values', () => {
    expect(unquoteEtag('"MQ=="')).toBe('MQ==');
    expect(unquoteEtag('"*"')).toBe('*');
  });

  test('leaves an unquoted value as it is, trimming whitespace', () => {
    expect(unquoteEtag('MQ==')).toBe('MQ==');
    expect(unquoteEtag('  MQ==  ')).toBe('MQ==');
  });

  test('leaves a lone quote character alone', () => {
    expect(unquoteEtag('"')).toBe('"');
  });
});

describe('etagMatches (If-Match)', () => {
  const current = identityEtag(3);

  test('an absent header (undefined) matches any etag', () => {
    expect(etagMatches(undefined, current)).toBe(true);
  });

  test('an absent header (null) matches any etag', () => {
    expect(etagMatches(null, current)).toBe(true);
  });

  test('a bare * matches any etag', () => {
    expect(etagMatches('*', current)).toBe(true);
  });

  test('a quoted "*" (how azure-iothub sends it) matches any etag', () => {
    expect(etagMatches('"*"', current)).toBe(true);
  });

  test('the quoted current etag matches', () => {
    expect(etagMatches(`"${current}"`, current)).toBe(true);
  });

  test('the unquoted current etag matches', () => {
    expect(etagMatches(current, current)).toBe(true);
  });

  test('a stale etag does not match', () => {
    expect(etagMatches(`"${identityEtag(2)}"`, current)).toBe(false);
    expect(etagMatches(identityEtag(2), current)).toBe(false);
  });

  test('an empty header value does not match', () => {
    expect(etagMatches('', current)).toBe(false);
    expect(etagMatches('""', current)).toBe(false);
  });

  test('an etag differing only in case does not match', () => {
    expect(etagMatches('mq==', identityEtag(1))).toBe(false);
  });
});
