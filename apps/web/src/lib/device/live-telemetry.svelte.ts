// The live telemetry of one device: the `/events/live` WebSocket, a 60 s window of numeric fields
// for the chart and the newest messages for the log. Incoming events are queued and applied at
// most once per animation frame (and once a second while the tab is hidden), so a device sending
// 50 messages/s costs one chart redraw per frame. Every buffer is bounded. Owns no drawing.

import type { StreamedEvent } from '#lib/api/types.ts';
import { numericFields } from './numeric-fields.ts';
import { SlidingWindow } from './sliding-window.ts';

/** The chart's window; the x axis always spans this many seconds up to now. */
export const WINDOW_S = 60;
/** The log shows this many messages, newest first. */
export const LOG_LIMIT = 200;
/** 60 s at 100 messages/s; beyond this the oldest points go first. */
const MAX_POINTS = 6000;
/** Past this many queued events they are applied at once instead of waiting for a frame. */
const MAX_PENDING = 1000;
const RECONNECT_MS = 3000;

export interface LogEntry {
  /** local, increasing: a stable key for the log list */
  key: number;
  event: StreamedEvent;
}

export type LiveStatus = 'connecting' | 'open' | 'closed';

export class LiveTelemetry {
  status = $state<LiveStatus>('connecting');
  log = $state.raw<LogEntry[]>([]);
  seriesNames = $state.raw<string[]>([]);
  columns = $state.raw<[number[], ...(number | null)[][]]>([[]]);
  received = $state(0);

  #pending: { event: StreamedEvent; atS: number }[] = [];
  #window = new SlidingWindow(WINDOW_S, MAX_POINTS);
  #nextKey = 0;
  #frame = 0;
  #socket: WebSocket | undefined;
  #tick: ReturnType<typeof setInterval> | undefined;
  #reconnect: ReturnType<typeof setTimeout> | undefined;
  #isStopped = false;

  constructor(readonly url: string) {}

  /** `ws(s)://<this origin>/events/live?deviceId=<id>`. */
  static urlFor(deviceId: string, location: Location): string {
    const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${protocol}//${location.host}/events/live?deviceId=${encodeURIComponent(deviceId)}`;
  }

  /** Opens the socket (reopening it after drops) and starts the window's clock; returns `stop`. */
  start(): () => void {
    this.#open();
    this.#tick = setInterval(() => this.#flush(), 1000);
    return () => this.stop();
  }

  stop(): void {
    this.#isStopped = true;
    clearInterval(this.#tick);
    clearTimeout(this.#reconnect);
    cancelAnimationFrame(this.#frame);
    this.#socket?.close();
    this.#pending = [];
  }

  #open(): void {
    this.status = 'connecting';
    const socket = new WebSocket(this.url);
    this.#socket = socket;
    socket.onopen = () => (this.status = 'open');
    socket.onmessage = (message) => this.#receive(message.data);
    socket.onclose = () => {
      this.status = 'closed';
      if (!this.#isStopped) this.#reconnect = setTimeout(() => this.#open(), RECONNECT_MS);
    };
  }

  #receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let event: StreamedEvent;
    try {
      event = JSON.parse(data) as StreamedEvent;
    } catch {
      return;
    }
    this.#pending.push({ event, atS: Date.now() / 1000 });
    if (this.#pending.length >= MAX_PENDING) this.#flush();
    else if (this.#frame === 0) this.#frame = requestAnimationFrame(() => this.#flush());
  }

  /** Applies the queued events to the window and the log, and slides the window to now. */
  #flush(): void {
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    const batch = this.#pending;
    this.#pending = [];
    for (const { event, atS } of batch) {
      const fields = numericFields(parseBody(event));
      if (fields.size > 0) this.#window.push(atS, fields);
    }
    this.#window.prune(Date.now() / 1000);
    if (batch.length > 0) {
      const entries = batch.slice(-LOG_LIMIT).map(({ event }) => ({ key: this.#nextKey++, event })).reverse();
      this.log = [...entries, ...this.log].slice(0, LOG_LIMIT);
      this.received += batch.length;
    }
    const names = this.#window.seriesNames();
    if (names.join('\n') !== this.seriesNames.join('\n')) this.seriesNames = names;
    this.columns = this.#window.columns();
  }
}

function parseBody(event: StreamedEvent): unknown {
  if (event.bodyText === undefined) return undefined;
  try {
    return JSON.parse(event.bodyText);
  } catch {
    return undefined;
  }
}
