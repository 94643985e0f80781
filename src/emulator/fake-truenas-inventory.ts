/**
 * What the fake TrueNAS serves: one inventory (system, pools, datasets, disks, alerts) that both of its
 * transports answer from, REST (`/api/v2.0/...`) and JSON-RPC (`system.info`, `pool.query`, ...), so a
 * client sees the same NAS whichever transport it negotiates. Real TrueNAS's REST API is a bridge onto
 * the same middleware methods, so the shapes are the same on both.
 */
export interface FakePool {
  id?: number;
  name: string;
  status?: string;
  size?: number;
  allocated?: number;
}
export interface FakeDataset {
  name: string;
  pool?: string;
  used?: number;
  available?: number;
  readonly?: boolean;
  mounted?: boolean;
}

export interface InventoryOptions {
  hostname?: string;
  version?: string;
  serial?: string;
  pools?: FakePool[];
  datasets?: FakeDataset[];
}

export interface InventoryUpdate {
  pools?: FakePool[];
  datasets?: FakeDataset[];
  hostname?: string;
}

export interface FakeInventory {
  hostname(): string;
  systemInfo(): Record<string, unknown>;
  pools(): Array<Record<string, unknown>>;
  datasets(): Array<Record<string, unknown>>;
  disks(): Array<Record<string, unknown>>;
  alerts(): Array<Record<string, unknown>>;
  update(update: InventoryUpdate): void;
}

export const GIB = 1024 ** 3;

export function createInventory(opts: InventoryOptions): FakeInventory {
  let hostname = opts.hostname ?? 'truenas-fake';
  let pools: FakePool[] = opts.pools ?? [{ id: 1, name: 'tank', status: 'ONLINE', size: 4000 * GIB, allocated: 1000 * GIB }];
  let datasets: FakeDataset[] = opts.datasets ?? [
    { name: 'tank', used: 1000 * GIB, available: 3000 * GIB },
    { name: 'tank/apps', used: 200 * GIB, available: 3000 * GIB },
  ];

  return {
    hostname: () => hostname,
    systemInfo: () => ({
      hostname,
      version: opts.version ?? 'TrueNAS-SCALE-24.10.2',
      buildtime: '2025-01-01T00:00:00Z', // Pulse's Feb client decodes buildtime as a string
      uptime_seconds: Math.floor(process.uptime()) + 86_400,
      system_serial: opts.serial ?? 'FAKE-SERIAL-0001',
    }),
    pools: () =>
      pools.map((p, i) => ({
        id: p.id ?? i + 1,
        name: p.name,
        status: p.status ?? 'ONLINE',
        size: p.size ?? 1000 * GIB,
        allocated: p.allocated ?? 100 * GIB,
        free: (p.size ?? 1000 * GIB) - (p.allocated ?? 100 * GIB),
      })),
    datasets: () =>
      datasets.map((d) => ({
        id: d.name,
        name: d.name,
        pool: d.pool ?? d.name.split('/')[0],
        used: { rawvalue: String(d.used ?? 0), parsed: d.used ?? 0 },
        available: { rawvalue: String(d.available ?? 0), parsed: d.available ?? 0 },
        readonly: { rawvalue: d.readonly ? 'on' : 'off', parsed: d.readonly ?? false },
        mounted: d.mounted ?? true,
        mountpoint: `/mnt/${d.name}`,
      })),
    // One disk per pool, so a pool change shows on the disks too.
    disks: () =>
      pools.map((p, i) => ({
        identifier: `{serial}FAKEDISK${i}`,
        name: `sd${String.fromCharCode(97 + i)}`,
        serial: `FAKEDISK${i}`,
        size: p.size ?? 1000 * GIB,
        model: 'FAKE HDD',
        type: 'HDD',
        pool: p.name,
        bus: 'SATA',
        status: 'ONLINE',
        rotationrate: 7200,
      })),
    alerts: () => [
      {
        id: 'fake-alert-1',
        level: 'INFO',
        formatted: 'Fake TrueNAS is running',
        source: 'Fake',
        dismissed: false,
        datetime: { $date: Date.now() },
      },
    ],
    update(update) {
      if (update.pools) pools = update.pools;
      if (update.datasets) datasets = update.datasets;
      if (update.hostname) hostname = update.hostname;
    },
  };
}
