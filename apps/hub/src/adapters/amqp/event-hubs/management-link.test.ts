import { describe, expect, test } from 'bun:test';
import { HubError, silentLogger } from '@tributary/core';
import { FakeClock, MemoryEventStore } from '@tributary/core/testing';
import type { EventContext, Message, Sender } from 'rhea';
import { AmqpConnectionState } from '../connection-state.ts';
import type { AmqpAdapterDeps } from '../deps.ts';
import { handleManagementRequest, openManagementReplySender } from './management-link.ts';

function fakeSender(targetAddress: string) {
  const sent: Message[] = [];
  const sender = {
    name: `link-${targetAddress}`,
    remote: { attach: { target: { address: targetAddress } } },
    is_open: () => true,
    is_closed: () => false,
    send: (message: Message) => void sent.push(message),
  };
  return { sender: sender as unknown as Sender, sent };
}

function setup() {
  const clock = new FakeClock();
  const store = new MemoryEventStore();
  const deps = {
    hostName: 'localhost',
    eventHubName: 'myhub',
    authorizeEventHubs: async (token: string, audience: string) => {
      if (token !== 'good-token' || audience !== 'sb://localhost/myhub') throw new HubError('IotHubUnauthorized', 'bad signature');
      return { keyName: 'iothubowner', expiresAtMs: clock.now() + 3_600_000 };
    },
    events: { partitionCount: 4 },
    eventStore: store,
    clock,
    logger: silentLogger,
  } as unknown as AmqpAdapterDeps;
  const state = new AmqpConnectionState({} as never, [], 1);
  const first = fakeSender('reply-a');
  const second = fakeSender('reply-b');
  openManagementReplySender(first.sender, state);
  openManagementReplySender(second.sender, state);
  const request = async (properties: Record<string, unknown>, replyTo = 'reply-a') => {
    const message: Message = { message_id: 'req-1', reply_to: replyTo, application_properties: properties, body: Buffer.from('[]') };
    await handleManagementRequest({ message, delivery: { accept() {} } } as unknown as EventContext, state, deps);
    return [...first.sent, ...second.sent].at(-1)!;
  };
  return { deps, state, store, clock, first, second, request };
}

const statusOf = (reply: Message) => (reply.application_properties!['status-code'] as { value: number }).value;
const hubRead = { operation: 'READ', type: 'com.microsoft:eventhub', name: 'myhub', security_token: 'good-token' };

describe('$management requests', () => {
  test('hub properties go to the receiver named by reply_to, correlated, with every partition id', async () => {
    const { request, first, second } = await setup();
    const reply = await request(hubRead);
    expect(first.sent).toHaveLength(1);
    expect(second.sent).toHaveLength(0);
    expect(reply.correlation_id).toBe('req-1');
    expect(statusOf(reply)).toBe(200);
    const body = reply.body as Record<string, unknown>;
    expect(body.name).toBe('myhub');
    expect((body.partition_ids as { value: string[] }).value).toEqual(['0', '1', '2', '3']);
    expect(body.created_at).toBeInstanceOf(Date);
  });

  test('partition properties come from the partition head', async () => {
    const { request, store } = await setup();
    const event = { partitionId: 2, sequenceNumber: 0, offset: 0, enqueuedTime: 1000, deviceId: 'd', moduleId: null, messageSource: 'Telemetry' as const, systemProperties: {}, applicationProperties: {}, body: new Uint8Array(3) };
    await store.append([event, { ...event, sequenceNumber: 1, offset: 3, enqueuedTime: 2000 }]);
    const reply = await request({ ...hubRead, type: 'com.microsoft:partition', partition: '2' });
    const body = reply.body as Record<string, unknown>;
    expect(statusOf(reply)).toBe(200);
    expect(body.partition).toBe('2');
    expect((body.last_enqueued_sequence_number as { value: number }).value).toBe(1);
    expect(body.last_enqueued_offset).toBe('3');
    expect(body.is_partition_empty).toBe(false);
  });

  test('a security token that does not verify is 401 unauthorized-access', async () => {
    const { request } = await setup();
    const reply = await request({ ...hubRead, security_token: 'forged' });
    expect(statusOf(reply)).toBe(401);
    expect(reply.application_properties!['error-condition']).toBe('amqp:unauthorized-access');
  });

  test('without a security token a covering CBS claim authorises, and nothing else does', async () => {
    const { request, state, clock } = await setup();
    const { security_token: _, ...withoutToken } = hubRead;
    expect(statusOf(await request(withoutToken))).toBe(401);
    state.claims.set('sb://localhost:5671/myhub/$management', {
      kind: 'eventHubs',
      audience: 'sb://localhost:5671/myhub/$management',
      keyName: 'iothubowner',
      expiresAtMs: clock.now() + 1000,
    });
    expect(statusOf(await request(withoutToken))).toBe(200);
    clock.advance(1000);
    expect(statusOf(await request(withoutToken))).toBe(401);
  });

  test('another entity or a partition out of range is 404, an unknown operation 400', async () => {
    const { request } = await setup();
    const otherHub = await request({ ...hubRead, name: 'otherhub' });
    expect(statusOf(otherHub)).toBe(404);
    expect(String(otherHub.application_properties!['status-description'])).toContain('could not be found');
    expect(statusOf(await request({ ...hubRead, type: 'com.microsoft:partition', partition: '4' }))).toBe(404);
    expect(statusOf(await request({ ...hubRead, operation: 'DELETE' }))).toBe(400);
  });

  test('without a matching reply_to the newest $management receiver gets the reply', async () => {
    const { request, second } = await setup();
    await request(hubRead, 'unknown-address');
    expect(second.sent).toHaveLength(1);
  });
});
