// One simulated device: a real MQTT 3.1.1 connection over WebSocket to the hub (the console
// contract's "Device simulator" section), its telemetry loop, and what it received (C2D
// messages, desired-property patches, method calls). Keeps bounded histories. Owns no UI;
// topics are topics.ts's, the token sas-token.ts's and templates telemetry-template.ts's.

// The browser build of mqtt (dist/mqtt.esm.js) has only a default export.
import mqtt, { type MqttClient } from 'mqtt';
import { type MethodResponseRule, respondTo } from './method-responses.ts';
import { createDeviceSasToken } from './sas-token.ts';
import { compileTemplate } from './telemetry-template.ts';
import { methodResponseTopic, parseIncomingTopic, reportedPatchTopic, subscriptions, telemetryTopic } from './topics.ts';

/** The api-version the Azure device SDKs put in the MQTT username (azure-wire-protocol.md §1). */
const API_VERSION = '2021-04-12';
/** Long enough for any session in the console; the simulator does not renew tokens. */
const TOKEN_LIFETIME_S = 24 * 3600;
/** Entries kept per received-history list. */
export const HISTORY_LIMIT = 50;
const TELEMETRY_PROPERTIES = { '$.ct': 'application/json', '$.ce': 'utf-8' };

export interface SimulatedDeviceConfig {
  hostName: string;
  deviceId: string;
  primaryKey: string;
}

export type SimulatorStatus = 'disconnected' | 'connecting' | 'connected';

export interface ReceivedC2d { key: number; at: Date; body: string; properties: Record<string, string> }
export interface DesiredChange { key: number; at: Date; version: number | undefined; patch: string }
export interface MethodCall { key: number; at: Date; methodName: string; payload: string; status: number }

const decoder = new TextDecoder();
const prepend = <T>(item: T, list: T[]) => [item, ...list].slice(0, HISTORY_LIMIT);

/** The broker every simulated device connects to: this origin's `/$iothub/websocket`. */
export function brokerUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/$iothub/websocket`;
}

export class SimulatedDevice {
  status = $state<SimulatorStatus>('disconnected');
  error = $state('');
  templateText = $state('{\n  "temperature": "$walk(20, 0.5)",\n  "humidity": "$walk(45, 1, 0, 100)"\n}');
  intervalMs = $state(1000);
  isSending = $state(false);
  sentCount = $state(0);
  lastSent = $state('');
  c2dMessages = $state.raw<ReceivedC2d[]>([]);
  desiredChanges = $state.raw<DesiredChange[]>([]);
  methodCalls = $state.raw<MethodCall[]>([]);
  defaultResponse = $state<MethodResponseRule>({ methodName: '', status: 200, payloadText: '{"result": "ok"}' });
  methodResponses = $state<MethodResponseRule[]>([]);
  reportedText = $state('{\n  "firmwareVersion": "1.0.0"\n}');
  reportedNote = $state('');

  #client: MqttClient | undefined;
  #telemetryTimer: ReturnType<typeof setInterval> | undefined;
  #nextKey = 0;
  #nextRid = 1;
  #pendingReported = new Map<string, (status: number, version?: number) => void>();

  constructor(readonly config: SimulatedDeviceConfig) {}

  get deviceId(): string {
    return this.config.deviceId;
  }

  async connect(url: string): Promise<void> {
    if (this.#client) return;
    this.status = 'connecting';
    this.error = '';
    const { hostName, deviceId, primaryKey } = this.config;
    let password: string;
    try {
      password = await createDeviceSasToken({ hostName, deviceId, key: primaryKey, expiresAtEpochS: Date.now() / 1000 + TOKEN_LIFETIME_S });
    } catch (cause) {
      this.status = 'disconnected';
      this.error = `Could not sign a SAS token with the device key: ${(cause as Error).message}`;
      return;
    }
    // The Azure SDKs never let mqtt.js reconnect on its own; a refused or dropped connection is shown instead.
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      clientId: deviceId,
      username: `${hostName}/${deviceId}/?api-version=${API_VERSION}`,
      password,
      clean: false,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    });
    this.#client = client;
    client.on('connect', () => {
      this.status = 'connected';
      this.error = '';
      client.subscribe(subscriptions(deviceId), { qos: 1 }, (error) => {
        if (error) this.error = `Subscribe failed: ${error.message}`;
      });
    });
    client.on('message', (topic, payload) => this.#receive(topic, decoder.decode(payload)));
    client.on('error', (error) => (this.error = error.message));
    client.on('close', () => {
      if (this.#client !== client) return;
      if (!this.error) this.error = this.status === 'connected' ? 'The connection closed.' : 'Could not connect to the hub.';
      this.#dropConnection();
    });
  }

  disconnect(): void {
    const client = this.#client;
    this.#dropConnection();
    client?.end();
    this.error = '';
  }

  #dropConnection(): void {
    this.stopTelemetry();
    this.#client = undefined;
    this.status = 'disconnected';
    for (const settle of this.#pendingReported.values()) settle(0);
    this.#pendingReported.clear();
  }

  /** Starts sending the template every `intervalMs`; a broken template is reported and nothing starts. */
  startTelemetry(): void {
    const compiled = compileTemplate(this.templateText);
    if (!compiled.template) {
      this.error = `Telemetry template: ${compiled.error}`;
      return;
    }
    const { template } = compiled;
    this.stopTelemetry();
    this.error = '';
    this.isSending = true;
    const topic = telemetryTopic(this.deviceId, TELEMETRY_PROPERTIES);
    this.#telemetryTimer = setInterval(() => {
      const body = JSON.stringify(template.render(Math.random, new Date()));
      this.#client?.publish(topic, body, { qos: 1 }, (error) => {
        if (error) this.error = `Telemetry not accepted: ${error.message}`;
      });
      this.sentCount++;
      this.lastSent = body;
    }, Math.max(10, this.intervalMs));
  }

  stopTelemetry(): void {
    clearInterval(this.#telemetryTimer);
    this.#telemetryTimer = undefined;
    this.isSending = false;
  }

  /** Publishes a reported-properties patch and waits for the hub's answer (`$iothub/twin/res/204/?$rid=…&$version=…`). */
  updateReported(patch: object): void {
    const client = this.#client;
    if (!client) return;
    const rid = String(this.#nextRid++);
    this.reportedNote = 'Updating…';
    this.#pendingReported.set(rid, (status, version) => {
      this.reportedNote =
        status === 204 ? `Reported properties updated (version ${version ?? '?'}).` : status === 0 ? 'Disconnected before the hub answered.' : `The hub answered ${status}.`;
    });
    client.publish(reportedPatchTopic(rid), JSON.stringify(patch), { qos: 0 });
  }

  #receive(topic: string, body: string): void {
    const at = new Date();
    const parsed = parseIncomingTopic(topic);
    switch (parsed.kind) {
      case 'c2d':
        this.c2dMessages = prepend({ key: this.#nextKey++, at, body, properties: parsed.properties }, this.c2dMessages);
        break;
      case 'desiredPatch':
        this.desiredChanges = prepend({ key: this.#nextKey++, at, version: parsed.version, patch: body }, this.desiredChanges);
        break;
      case 'methodRequest': {
        const response = respondTo(parsed.methodName, this.methodResponses, this.defaultResponse);
        this.#client?.publish(methodResponseTopic(response.status, parsed.rid), JSON.stringify(response.payload), { qos: 0 });
        this.methodCalls = prepend({ key: this.#nextKey++, at, methodName: parsed.methodName, payload: body, status: response.status }, this.methodCalls);
        break;
      }
      case 'twinResponse':
        this.#pendingReported.get(parsed.rid)?.(parsed.status, parsed.version);
        this.#pendingReported.delete(parsed.rid);
        break;
      case 'unknown':
        break;
    }
  }
}
