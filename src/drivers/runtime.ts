// Models: the drivers of one run's client devices: each device runs one driver instance (made on
// the device's first use as a P2P client, from the driver the scenario names for it, else ODP)
// with its own view of the kernel; a device's driver may be replaced (its old instance is released
// first, so its notifiers no longer run).
// Leaves out: loading drivers from files (scenario/load.ts).
import type { Machine } from "../devices/machine.js";
import type { DriverInstance, P2pDriver } from "./api.js";
import { BUILTIN_DRIVERS, DEFAULT_DRIVER } from "./builtin/index.js";
import { DeviceKernel, type KernelCosts } from "./kernel.js";
import type { Timeline } from "./timeline.js";

export interface RunningDriver {
  driver: P2pDriver;
  kernel: DeviceKernel;
  instance: DriverInstance;
}

export class DriverRuntime {
  private readonly running = new Map<string, RunningDriver>();

  /** `drivers`: the driver of each device (by topology id) the scenario names. */
  constructor(
    private readonly machine: Machine, private readonly timeline: Timeline, private readonly costs: KernelCosts,
    private readonly drivers: ReadonlyMap<string, P2pDriver>,
  ) {}

  /** Device `id`'s running driver (InputError when the topology has no such function). */
  of(id: string): RunningDriver {
    const client = this.machine.client(id);
    const r = this.running.get(client.id);
    return r ?? this.start(client.id, this.drivers.get(client.id) ?? BUILTIN_DRIVERS.get(DEFAULT_DRIVER)!);
  }

  /** Device `id` runs `driver` from now on (the same one: nothing changes). */
  select(id: string, driver: P2pDriver): RunningDriver {
    const client = this.machine.client(id);
    const r = this.running.get(client.id);
    if (r && r.driver === driver) return r;
    r?.instance.release?.();
    return this.start(client.id, driver);
  }

  /** The devices that ran a driver. */
  get devices(): string[] {
    return [...this.running.keys()];
  }

  private start(id: string, driver: P2pDriver): RunningDriver {
    const kernel = new DeviceKernel(this.machine, this.timeline, this.costs, this.machine.client(id));
    const r = { driver, kernel, instance: driver.create(kernel, kernel.device) };
    const { instance } = r;
    if (instance.aperturePressure) kernel.pressure = (provider) => instance.aperturePressure!(provider);
    this.running.set(id, r);
    return r;
  }
}
