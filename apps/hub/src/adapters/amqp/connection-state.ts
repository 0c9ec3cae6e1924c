/**
 * What one AMQP connection has proven and opened: CBS claims by audience (renewed by later
 * put-tokens on the same link), the TLS client certificate chain, and the device sessions its
 * device links drive (one per identity).
 * @module
 */

import type { AuthenticatedDevice, DeviceSession, ServicePrincipal } from '@tributary/core';
import type { Connection, Sender } from 'rhea';

export type CbsClaim =
  | { kind: 'device'; identity: AuthenticatedDevice; expiresAtMs: number }
  | { kind: 'service'; principal: ServicePrincipal; expiresAtMs: number }
  | { kind: 'eventHubs'; audience: string; keyName: string; expiresAtMs: number };

/** A device session and the links (our senders) it pushes through on this connection. */
export interface DeviceBinding {
  session: DeviceSession;
  c2dSender?: Sender;
  methodsSender?: Sender;
  twinSender?: Sender;
  /** A module's input link (the module's receiver on its events address). */
  inputsSender?: Sender;
}

export class AmqpConnectionState {
  readonly claims = new Map<string, CbsClaim>();
  readonly devices = new Map<string, Promise<DeviceBinding>>();
  readonly id: number;

  constructor(
    readonly connection: Connection,
    readonly peerCertificateChain: Uint8Array[],
    id: number,
  ) {
    this.id = id;
  }

  /** The device claim covering an identity, if a put-token proved it. */
  deviceClaim(deviceId: string, moduleId: string | null): Extract<CbsClaim, { kind: 'device' }> | undefined {
    for (const claim of this.claims.values()) {
      if (claim.kind === 'device' && claim.identity.deviceId === deviceId && claim.identity.moduleId === moduleId) return claim;
    }
    return undefined;
  }

  serviceClaim(): Extract<CbsClaim, { kind: 'service' }> | undefined {
    for (const claim of this.claims.values()) if (claim.kind === 'service') return claim;
    return undefined;
  }
}
