/**
 * The built-in event stream over REST, for integrators and the console (mounted at `/events`,
 * permission ServiceConnect, as reading the Event Hub-compatible endpoint needs in IoT Hub):
 *
 * - `GET /partitions`: each partition's properties.
 * - `GET /partitions/{p}?fromSequenceNumber|fromOffset|fromEnqueuedTime|from=start|end&maxCount&deviceId`:
 *   a page of events and the `nextSequenceNumber` to continue from. With `deviceId` a page may
 *   hold fewer than `maxCount` events (even none) while more follow: the filter applies to the
 *   `maxCount` events read, so a page never scans more.
 * - `GET|PUT|DELETE /consumerGroups[/{name}]` and `GET|PUT /consumerGroups/{name}/checkpoints[/{p}]`.
 * - `GET /live?deviceId&moduleId`: Server-Sent Events, one `message` per committed event.
 *
 * A partition id outside `0 … partitionCount - 1` in a path is 404 GenericNotFound (the resource
 * does not exist); bad query or body values are 400 ArgumentInvalid naming the parameter.
 * @module
 */

import { Hono } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import {
  argumentInvalid,
  type Clock,
  DEFAULT_CONSUMER_GROUP,
  type EventPipeline,
  type EventPosition,
  type EventRecord,
  type EventStore,
  type Logger,
  notFound,
  silentLogger,
  systemClock,
  validateConsumerGroupName,
} from '@tributary/core';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { ServiceApiEnv } from '../context.ts';
import {
  checkpointJson,
  liveFeedFilter,
  eventJson,
  parseCheckpointBody,
  parseMaxCount,
  parsePosition,
  partitionJson,
} from '../representation/event-json.ts';
import { allowOnly, jsonResponse } from '../respond.ts';

/** Events per page unless `maxCount` says otherwise. */
export const DEFAULT_READ_COUNT = 100;
/** The most events one page returns, like the store's batch size. */
export const MAX_READ_COUNT = 1000;
/** Proxies drop idle connections after 30–60 s; a comment every 15 s keeps the live feed open. */
export const LIVE_HEARTBEAT_MS = 15_000;
/**
 * Events a live client may fall behind by before the hub ends its feed (with an `error` event)
 * instead of buffering without bound; the client reconnects or pages with `nextSequenceNumber`.
 */
export const MAX_LIVE_BACKLOG = 10_000;

export interface EventRoutesDeps {
  pipeline: EventPipeline;
  store: EventStore;
  authenticator: ServiceAuthenticator;
  partitionCount: number;
  /** Checkpoint times and the live heartbeat; default the system clock. */
  clock?: Clock;
  logger?: Logger;
  liveHeartbeatMs?: number;
}

export function eventRoutes(deps: EventRoutesDeps) {
  const { pipeline, store, authenticator, partitionCount } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const connect = requirePermission(authenticator, 'ServiceConnect');

  const partitionOf = (text: string): number => {
    const id = /^\d{1,5}$/.test(text) ? Number(text) : -1;
    if (id < 0 || id >= partitionCount) throw notFound(`Partition '${text.slice(0, 20)}' (partitions are 0 to ${partitionCount - 1})`);
    return id;
  };
  const groupOf = (name: string) => validateConsumerGroupName(name);
  const existingGroup = async (text: string) => {
    const name = groupOf(text);
    if (!(await store.listConsumerGroups()).includes(name)) throw notFound(`Consumer group '${name}'`);
    return name;
  };

  return new Hono<ServiceApiEnv>({ strict: false })
    .get('/partitions', connect, async (c) => jsonResponse(c, (await store.partitionHeads(partitionCount)).map(partitionJson)))
    .all('/partitions', allowOnly('GET'))
    .get('/partitions/:partition', connect, async (c) => {
      const partitionId = partitionOf(c.req.param('partition'));
      const position = parsePosition((name) => c.req.query(name));
      const maxCount = parseMaxCount(c.req.query('maxCount'), DEFAULT_READ_COUNT, MAX_READ_COUNT);
      const deviceId = c.req.query('deviceId');
      if (deviceId === '') throw argumentInvalid('deviceId must not be empty');
      const page = await readPage(store, partitionId, position, maxCount, partitionCount);
      const events = deviceId === undefined ? page.events : page.events.filter((event) => event.deviceId === deviceId);
      return jsonResponse(c, { events: events.map(eventJson), nextSequenceNumber: page.nextSequenceNumber });
    })
    .all('/partitions/:partition', allowOnly('GET'))
    .get('/consumerGroups', connect, async (c) =>
      jsonResponse(c, (await store.listConsumerGroups()).map((name) => ({ name }))),
    )
    .all('/consumerGroups', allowOnly('GET'))
    .put('/consumerGroups/:name', connect, async (c) => {
      const name = groupOf(c.req.param('name'));
      const isCreated = await store.createConsumerGroup(name);
      return jsonResponse(c, { name }, { status: isCreated ? 201 : 200 });
    })
    .delete('/consumerGroups/:name', connect, async (c) => {
      const name = groupOf(c.req.param('name'));
      if (name === DEFAULT_CONSUMER_GROUP) throw argumentInvalid(`The ${DEFAULT_CONSUMER_GROUP} consumer group cannot be deleted`);
      if (!(await store.deleteConsumerGroup(name))) throw notFound(`Consumer group '${name}'`);
      return c.body(null, 204);
    })
    .all('/consumerGroups/:name', allowOnly('PUT', 'DELETE'))
    .get('/consumerGroups/:name/checkpoints', connect, async (c) => {
      const name = await existingGroup(c.req.param('name'));
      return jsonResponse(c, (await store.getCheckpoints(name)).map(checkpointJson));
    })
    .all('/consumerGroups/:name/checkpoints', allowOnly('GET'))
    .put('/consumerGroups/:name/checkpoints/:partition', connect, async (c) => {
      const name = groupOf(c.req.param('name'));
      const partitionId = partitionOf(c.req.param('partition'));
      const checkpoint = parseCheckpointBody(await readJsonBody(c), name, partitionId, clock.now());
      if (!(await store.setCheckpoint(checkpoint))) throw notFound(`Consumer group '${name}'`);
      return jsonResponse(c, checkpointJson(checkpoint));
    })
    .all('/consumerGroups/:name/checkpoints/:partition', allowOnly('PUT'))
    .get('/live', connect, (c) => {
      const isWanted = liveFeedFilter(c.req.query('deviceId'), c.req.query('moduleId'));
      const heartbeatMs = deps.liveHeartbeatMs ?? LIVE_HEARTBEAT_MS;
      return streamSSE(c, (stream) => {
        // Hono aborts the stream when the response body is cancelled; the request signal covers servers that only abort that.
        c.req.raw.signal.addEventListener('abort', () => stream.abort(), { once: true });
        return pumpLiveFeed(stream, { pipeline, clock, logger, isWanted, heartbeatMs });
      });
    })
    .all('/live', allowOnly('GET'));
}

/**
 * Reads a page and works out where the next one starts. When nothing was read from a time,
 * offset or end position, every event up to the head taken *before* the read lies behind the
 * position, so continuing after that head skips nothing.
 */
async function readPage(store: EventStore, partitionId: number, position: EventPosition, maxCount: number, partitionCount: number) {
  const isBySequence = typeof position === 'object' && 'sequenceNumber' in position;
  const headBefore = isBySequence ? undefined : (await store.partitionHeads(partitionCount))[partitionId]!;
  const events = await store.read(partitionId, position, maxCount);
  const last = events.at(-1);
  const nextSequenceNumber = last
    ? last.sequenceNumber + 1
    : isBySequence
      ? (position as { sequenceNumber: number }).sequenceNumber
      : headBefore!.lastEnqueuedSequenceNumber + 1;
  return { events, nextSequenceNumber };
}

interface LiveFeedOptions {
  pipeline: EventPipeline;
  clock: Clock;
  logger: Logger;
  isWanted(event: EventRecord): boolean;
  heartbeatMs: number;
}

/**
 * Streams committed events until the client goes away. The pipeline's listener only queues (it
 * must never wait for a socket); this loop drains the queue, writing each wake-up's events in one
 * chunk, with a heartbeat comment when due.
 */
async function pumpLiveFeed(stream: SSEStreamingApi, { pipeline, clock, logger, isWanted, heartbeatMs }: LiveFeedOptions) {
  const backlog: EventRecord[] = [];
  let wake: (() => void) | undefined;
  let isGone = false;
  let isHeartbeatDue = false;
  const signal = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const unsubscribe = pipeline.subscribe((events) => {
    for (const event of events) if (isWanted(event)) backlog.push(event);
    signal();
  });
  let cancelHeartbeat = () => {};
  const scheduleHeartbeat = () => {
    cancelHeartbeat = clock.schedule(heartbeatMs, () => {
      isHeartbeatDue = true;
      signal();
      scheduleHeartbeat();
    });
  };
  scheduleHeartbeat();
  stream.onAbort(() => {
    isGone = true;
    signal();
  });
  try {
    await stream.write(': connected\n\n');
    while (!isGone && !stream.closed) {
      if (backlog.length > MAX_LIVE_BACKLOG) {
        logger.warn('live_feed_overflowed', { backlog: backlog.length });
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ message: 'The client fell behind the event stream' }) });
        break;
      }
      if (backlog.length > 0) {
        const chunk = backlog.splice(0).map((event) => `event: message\ndata: ${JSON.stringify(eventJson(event))}\n\n`);
        await stream.write(chunk.join(''));
      } else if (isHeartbeatDue) {
        isHeartbeatDue = false;
        await stream.write(': heartbeat\n\n');
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    unsubscribe();
    cancelHeartbeat();
  }
}
