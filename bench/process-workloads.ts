// Workloads measured in child processes: retained memory per run (W8) and import time (W9).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { EngineName } from './engines.js';
import { mastraEntryUrls } from './mastra-module.js';
import { elapsedMs } from './measure.js';
import { builtEntry, repoRoot } from './weft-module.js';
import type { Sample, Workload } from './workloads.js';

const root = repoRoot;

const w8: Workload = {
  id: 'W8',
  title: 'heap retained per completed W1 run (node --expose-gc)',
  stores: ['memory', 'file'],
  metrics: [{ key: 'bytesPerRun', label: 'bytes retained per run', unit: 'B', ratio: true }],
  async sample(ctx): Promise<Sample> {
    const runs = ctx.warmup ? 0 : ctx.engine.name === 'weft' ? (ctx.quick ? 1000 : 3000) : ctx.quick ? 200 : 500;
    if (runs === 0) return { values: {} };
    const child = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        join(root, 'bench/memory-child.ts'),
        ctx.engine.name,
        ctx.store,
        String(runs),
        ctx.dir,
      ],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !line.startsWith('{'))
      throw new Error(`W8 child failed (${child.status}): ${child.stderr.slice(-2000)}`);
    return { values: { bytesPerRun: (JSON.parse(line) as { bytesPerRun: number }).bytesPerRun } };
  },
};

function spawnMs(code: string): number {
  const start = performance.now();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  const ms = elapsedMs(start);
  if (child.status !== 0) throw new Error(`W9: node -e failed: ${child.stderr.slice(-1000)}`);
  return ms;
}

const IMPORTS: Record<EngineName, () => string> = {
  weft: () => `await import(${JSON.stringify(pathToFileURL(builtEntry()).href)});`,
  mastra: () =>
    mastraEntryUrls()
      .map((url) => `await import(${JSON.stringify(url)});`)
      .join(' '),
};

const w9: Workload = {
  id: 'W9',
  title: 'time to import the engine, above bare `node -e ""`',
  stores: ['memory'],
  metrics: [
    { key: 'importMs', label: 'ms above bare node', unit: 'ms', ratio: true },
    { key: 'bareMs', label: 'bare node (ms)', unit: 'ms', ratio: false },
  ],
  async sample(ctx) {
    const code = IMPORTS[ctx.engine.name]();
    const bare = spawnMs('');
    const total = spawnMs(code);
    return { values: { importMs: total - bare, bareMs: bare } };
  },
};

export const processWorkloads: readonly Workload[] = [w8, w9];
