// One device's registry entry kept current while its page is open: `GET /devices/{id}` every
// 2 s, so connection state and last activity stay live. Owns the polling, not the presentation.

import { getDevice } from '#lib/api/devices.ts';
import type { Device } from '#lib/api/types.ts';
import { startPolling } from '#lib/poll.ts';

/** Often enough that a connect or disconnect shows within a breath, rare enough to cost nothing. */
export const DEVICE_POLL_MS = 2000;

export class DeviceWatch {
  device = $state.raw<Device | null>(null);
  error = $state('');

  constructor(readonly deviceId: string) {}

  /** Polls until the returned function is called. */
  start(): () => void {
    return startPolling(async (signal) => {
      try {
        this.device = await getDevice(this.deviceId, signal);
        this.error = '';
      } catch (error) {
        if (!signal.aborted) this.error = error instanceof Error ? error.message : String(error);
      }
    }, DEVICE_POLL_MS);
  }

  /** Shows `device` at once (after the operator changed it) instead of at the next poll. */
  replace(device: Device): void {
    this.device = device;
  }
}
