/**
 * Device identities on an AMQP connection: the first device link of an identity opens its
 * DeviceSession (authorised by a CBS claim, or by the TLS client certificate for X.509 devices,
 * which attach without CBS), and the session pushes through the links this binding holds.
 * @module
 */

import { deviceUnauthorized, HubError, identityKey, type AuthenticatedDevice, type DeviceSink } from '@tributary/core';
import type { Delivery } from 'rhea';
import type { AmqpConnectionState, DeviceBinding } from './connection-state.ts';
import type { AmqpAdapterDeps } from './deps.ts';
import { amqpErrorFor } from './errors.ts';
import { c2dToAmqp, desiredPatchToAmqp, methodRequestToAmqp } from './message-mapping.ts';

/** Our C2D deliveries awaiting the device's disposition: delivery → lock token. */
export const c2dLockTokens = new WeakMap<Delivery, { binding: DeviceBinding; lockToken: string }>();

async function identityFor(
  state: AmqpConnectionState,
  deviceId: string,
  moduleId: string | null,
  deps: AmqpAdapterDeps,
): Promise<AuthenticatedDevice> {
  const claim = state.deviceClaim(deviceId, moduleId);
  if (claim) return claim.identity;
  if (state.peerCertificateChain.length > 0) {
    return deps.authenticate({
      kind: 'x509',
      deviceId,
      ...(moduleId === null ? {} : { moduleId }),
      certificateChain: state.peerCertificateChain,
    });
  }
  throw deviceUnauthorized(`No put-token on this connection covers ${moduleId === null ? `device '${deviceId}'` : `module '${moduleId}' of device '${deviceId}'`}`);
}

function createSink(state: AmqpConnectionState, binding: () => DeviceBinding): DeviceSink {
  return {
    deliverC2d(message) {
      const current = binding();
      const delivery = current.c2dSender?.send(c2dToAmqp(message));
      if (delivery) c2dLockTokens.set(delivery, { binding: current, lockToken: message.lockToken });
    },
    desiredPatch(patch) {
      binding().twinSender?.send(desiredPatchToAmqp(patch));
    },
    invokeMethod(request) {
      binding().methodsSender?.send(methodRequestToAmqp(request));
    },
    close(reason) {
      state.connection.close(amqpErrorFor(new HubError(reason.code, reason.message)));
    },
  };
}

/** The binding of an identity on this connection, opening its session on first use. */
export function bindDevice(
  state: AmqpConnectionState,
  deviceId: string,
  moduleId: string | null,
  deps: AmqpAdapterDeps,
): Promise<DeviceBinding> {
  const key = identityKey(deviceId, moduleId);
  const existing = state.devices.get(key);
  if (existing) return existing;
  const opening = (async () => {
    const identity = await identityFor(state, deviceId, moduleId, deps);
    let binding!: DeviceBinding;
    const session = await deps.sessions.open(identity, createSink(state, () => binding));
    binding = { session };
    return binding;
  })();
  state.devices.set(key, opening);
  opening.catch(() => state.devices.delete(key));
  return opening;
}

/** The connection ended: every device session it opened closes (unsettled C2D is abandoned). */
export async function closeDeviceBindings(state: AmqpConnectionState): Promise<void> {
  const bindings = [...state.devices.values()];
  state.devices.clear();
  for (const opening of bindings) {
    const binding = await opening.catch(() => undefined);
    await binding?.session.close();
  }
}
