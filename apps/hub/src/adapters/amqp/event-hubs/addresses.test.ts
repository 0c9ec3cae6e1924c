import { afterEach, describe, expect, setSystemTime, test } from 'bun:test';
import { dirname } from 'node:path';
import { sasRecipes } from '@tributary/core';
import { audienceCovers, audienceFor, parseEventHubsAddress } from './addresses.ts';

const ENTITY = 'myhub';

describe('parsing Event Hubs link addresses', () => {
  test('a receiver address names its consumer group and partition', () => {
    expect(parseEventHubsAddress('myhub/ConsumerGroups/$Default/Partitions/3', ENTITY)).toEqual({
      kind: 'partition',
      consumerGroup: '$Default',
      partitionId: 3,
    });
  });

  test('segment names and the entity match case-insensitively, and $default becomes $Default', () => {
    expect(parseEventHubsAddress('MyHub/consumergroups/$default/PARTITIONS/0', ENTITY)).toEqual({
      kind: 'partition',
      consumerGroup: '$Default',
      partitionId: 0,
    });
  });

  test('a custom consumer group keeps its spelling', () => {
    expect(parseEventHubsAddress('myhub/ConsumerGroups/Analytics/Partitions/1', ENTITY)).toMatchObject({ consumerGroup: 'Analytics' });
  });

  test('$management, with or without the entity, and $cbs are recognised', () => {
    expect(parseEventHubsAddress('$management', ENTITY)).toEqual({ kind: 'management' });
    expect(parseEventHubsAddress('myhub/$management', ENTITY)).toEqual({ kind: 'management' });
    expect(parseEventHubsAddress('$cbs', ENTITY)).toEqual({ kind: 'cbs' });
  });

  test('another entity, a non-numeric partition and other paths are not ours', () => {
    for (const address of [
      'otherhub/ConsumerGroups/$Default/Partitions/0',
      'otherhub/$management',
      'myhub/ConsumerGroups/$Default/Partitions/x',
      'myhub/ConsumerGroups/$Default/Partitions/-1',
      'myhub/ConsumerGroups/$Default/Partitions/01',
      'myhub/ConsumerGroups/$Default',
      'myhub/Partitions/0',
      'myhub',
      '/devices/d1/messages/events',
      '',
    ]) {
      expect(parseEventHubsAddress(address, ENTITY)).toBeUndefined();
    }
    expect(parseEventHubsAddress(undefined, ENTITY)).toBeUndefined();
  });
});

describe('CBS audiences', () => {
  test('the audiences are the ones @azure/event-hubs puts tokens on', () => {
    // eventhubConnectionConfig.js: getManagementAudience / getReceiverAudience
    expect(audienceFor({ kind: 'management' }, 'localhost:5672', ENTITY)).toBe('sb://localhost:5672/myhub/$management');
    expect(audienceFor({ kind: 'partition', consumerGroup: '$Default', partitionId: 2 }, 'h.example.com', ENTITY)).toBe(
      'sb://h.example.com/myhub/ConsumerGroups/$Default/Partitions/2',
    );
    expect(audienceFor({ kind: 'cbs' }, 'h', ENTITY)).toBeUndefined();
  });

  test('a partition audience covers only its own consumer group and partition, whatever the port', () => {
    const audience = 'sb://localhost:5672/myhub/ConsumerGroups/$Default/Partitions/2';
    expect(audienceCovers(audience, { kind: 'partition', consumerGroup: '$Default', partitionId: 2 }, ENTITY)).toBe(true);
    expect(audienceCovers('sb://localhost/MYHUB/consumergroups/$default/partitions/2', { kind: 'partition', consumerGroup: '$Default', partitionId: 2 }, ENTITY)).toBe(true);
    expect(audienceCovers(audience, { kind: 'partition', consumerGroup: '$Default', partitionId: 3 }, ENTITY)).toBe(false);
    expect(audienceCovers(audience, { kind: 'partition', consumerGroup: 'other', partitionId: 2 }, ENTITY)).toBe(false);
    expect(audienceCovers(audience, { kind: 'management' }, ENTITY)).toBe(false);
  });

  test('the management audience covers $management but no partition', () => {
    const audience = 'sb://localhost:5672/myhub/$management';
    expect(audienceCovers(audience, { kind: 'management' }, ENTITY)).toBe(true);
    expect(audienceCovers(audience, { kind: 'partition', consumerGroup: '$Default', partitionId: 0 }, ENTITY)).toBe(false);
  });

  test('an entity or namespace audience covers every link of the entity; another entity covers none', () => {
    const partition = { kind: 'partition', consumerGroup: '$Default', partitionId: 0 } as const;
    for (const audience of ['sb://h/myhub', 'sb://h/myhub/', 'sb://h/', 'sb://h']) {
      expect(audienceCovers(audience, partition, ENTITY)).toBe(true);
      expect(audienceCovers(audience, { kind: 'management' }, ENTITY)).toBe(true);
    }
    expect(audienceCovers('sb://h/myhub2', partition, ENTITY)).toBe(false);
    expect(audienceCovers('sb://h/my', partition, ENTITY)).toBe(false);
    expect(audienceCovers('h/devices/d1', partition, ENTITY)).toBe(false);
  });
});

describe('tokens @azure/event-hubs puts on these audiences', () => {
  afterEach(() => setSystemTime());

  test('@azure/core-amqp mints byte for byte the token sasRecipes.eventHubs makes for each audience', async () => {
    // @azure/core-amqp is a dependency of @azure/event-hubs (our devDependency), so resolve it from there.
    const eventHubsEntry = Bun.resolveSync('@azure/event-hubs', import.meta.dir);
    const coreAmqp = await import(Bun.resolveSync('@azure/core-amqp', dirname(eventHubsEntry)));
    const key = 'q2PvDgmU0Pz3Wq7bTTWcdiLOXxh2WdH4MQbVvqf0sGE=';
    const provider = coreAmqp.createSasTokenProvider({ sharedAccessKeyName: 'service', sharedAccessKey: key });
    setSystemTime(new Date(1_790_000_000_000));
    const expiresAtSeconds = 1_790_000_000 + 3600; // the provider's fixed one-hour lifetime
    for (const address of [{ kind: 'management' } as const, { kind: 'partition', consumerGroup: '$Default', partitionId: 1 } as const]) {
      const audience = audienceFor(address, 'localhost:5672', ENTITY)!;
      const { token } = await provider.getToken(audience);
      // sasRecipes.eventHubs takes (host, entityPath): everything after sb://host/ is the path.
      const path = audience.slice('sb://localhost:5672/'.length);
      expect(token).toBe(sasRecipes.eventHubs('localhost:5672', path, 'service', key, expiresAtSeconds));
      expect(audienceCovers(audience, address, ENTITY)).toBe(true);
    }
  });
});
