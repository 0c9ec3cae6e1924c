import { describe, expect, test } from 'bun:test';
import { expectHubError } from '../testing/hub-error-assertions.ts';
import { DEFAULT_PARTITION_COUNT, fnv1a32, partitionFor, validatePartitionCount } from './partitioner.ts';

describe('partitioner', () => {
  test('fnv1a32 matches the published FNV-1a test vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  test('a device always maps to the same partition', () => {
    const first = partitionFor('thermostat-7', DEFAULT_PARTITION_COUNT);
    for (let i = 0; i < 10; i++) expect(partitionFor('thermostat-7', DEFAULT_PARTITION_COUNT)).toBe(first);
  });

  test('devices spread over every partition, each within range', () => {
    const counts = new Array<number>(DEFAULT_PARTITION_COUNT).fill(0);
    for (let i = 0; i < 1000; i++) counts[partitionFor(`device-${i}`, DEFAULT_PARTITION_COUNT)]! += 1;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
    for (const count of counts) expect(count).toBeGreaterThan(150);
  });

  test('non-ASCII ids hash their UTF-8 bytes', () => {
    expect(fnv1a32('é')).toBe(fnv1a32('\u00e9'));
    expect(fnv1a32('é')).not.toBe(fnv1a32('e'));
  });

  test('a partition count outside 1…128 is refused with ArgumentInvalid', () => {
    expect(validatePartitionCount(1)).toBe(1);
    expectHubError(() => validatePartitionCount(0), 'ArgumentInvalid', 'partitionCount');
    expectHubError(() => validatePartitionCount(2.5), 'ArgumentInvalid');
    expectHubError(() => validatePartitionCount(129), 'ArgumentInvalid');
  });
});
