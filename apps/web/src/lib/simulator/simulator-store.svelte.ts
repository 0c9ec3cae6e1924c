// The simulated devices of this browser tab. Module-level on purpose: the devices keep their
// connections and telemetry loops while the operator uses other console pages, and come back
// as they were on the simulator page. A page reload ends them.

import { SimulatedDevice, type SimulatedDeviceConfig } from './simulated-device.svelte.ts';

class SimulatorStore {
  devices = $state.raw<SimulatedDevice[]>([]);

  /** Adds a simulated device, or returns the one already simulating `config.deviceId`. */
  add(config: SimulatedDeviceConfig): SimulatedDevice {
    const existing = this.devices.find((device) => device.deviceId === config.deviceId);
    if (existing) return existing;
    const device = new SimulatedDevice(config);
    this.devices = [...this.devices, device];
    return device;
  }

  remove(device: SimulatedDevice): void {
    device.disconnect();
    this.devices = this.devices.filter((candidate) => candidate !== device);
  }
}

export const simulator = new SimulatorStore();
