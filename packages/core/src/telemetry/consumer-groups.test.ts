import { describe, expect, test } from 'bun:test';
import { expectHubError } from '../testing/hub-error-assertions.ts';
import { validateConsumerGroupName, validatePartitionId } from './consumer-groups.ts';

describe('consumer group names', () => {
  test('$Default and names of letters, digits, dots, dashes and underscores are accepted', () => {
    for (const name of ['$Default', 'a', 'analytics-1', 'ops_team.v2', 'x'.repeat(50)]) {
      expect(validateConsumerGroupName(name)).toBe(name);
    }
  });

  test('empty, too long, or names with other characters are refused with ArgumentInvalid', () => {
    for (const name of ['', 'x'.repeat(51), 'has space', 'slash/y', '$default', '$Other', 'ümlaut']) {
      expectHubError(() => validateConsumerGroupName(name), 'ArgumentInvalid', 'Consumer group name');
    }
  });
});

describe('partition ids', () => {
  test('only integers from 0 to partitionCount - 1 are accepted', () => {
    expect(validatePartitionId(0, 4)).toBe(0);
    expect(validatePartitionId(3, 4)).toBe(3);
    expectHubError(() => validatePartitionId(4, 4), 'ArgumentInvalid', 'from 0 to 3');
    expectHubError(() => validatePartitionId(-1, 4), 'ArgumentInvalid');
    expectHubError(() => validatePartitionId(1.5, 4), 'ArgumentInvalid');
  });
});
