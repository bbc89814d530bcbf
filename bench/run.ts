// `npm run bench`: runs the workloads on Weft and @mastra/core, alternating engines, and prints medians and ratios.
// Usage: npm run bench [-- --quick] [-- --reps N] [-- --source] [-- --one-process] [-- W1 W3 ...]
// The Postgres group (Weft vs DBOS Transact): npm run bench -- --pg [--quick] [--reps N] [P1 P2 ...]
// `npm run bench` first installs the compared engines from bench/package.json into bench/node_modules.
// Each engine takes its samples in a process of its own (see engine-process.ts); --one-process takes
// them all in this one, as before, where a Mastra workflow's promise hooks then tax Weft's promises too.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineProcess } from './engine-process.js';
import { engines, type Engine, type EngineName, type StoreKind } from './engines.js';
import { formatNumber, formatRatio, median } from './measure.js';
import { processWorkloads } from './process-workloads.js';
import { checkTargets } from './targets.js';
import { builtEntry, useSource, weftOrigin } from './weft-module.js';
import { workloads, type Sample, type SampleContext, type Workload } from './workloads.js';

interface Options {
  quick: boolean;
  reps: number;
  selected: Set<string>;
  oneProcess: boolean;
}

const USAGE = `Usage: npm run bench [-- --quick] [-- --reps N] [-- --source] [-- --one-process] [-- W1 W3 ...]
  --quick        smaller workloads, 3 repetitions
  --reps N       repetitions per workload (default 5)
  --source       load Weft from src/ through tsx instead of dist/
  --one-process  take both engines' samples in this process
  W1 W3 ...      only these workloads`;

function parseArgs(argv: readonly string[]): Options {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = argv.includes('--quick');
  const repsAt = argv.indexOf('--reps');
  const reps = repsAt >= 0 ? Math.max(1, Number(argv[repsAt + 1])) : quick ? 3 : 5;
  const selected = new Set(argv.filter((a) => /^W\d+$/i.test(a)).map((a) => a.toUpperCase()));
  useSource(argv.includes('--source'));
  return { quick, reps, selected, oneProcess: argv.includes('--one-process') };
}

/** The engines' own processes, started on first use (none with --one-process). */
const processes = new Map<EngineName, EngineProcess>();

/** One sample: in the engine's own process, except for the workloads that spawn processes themselves (W8, W9). */
function takeSample(
  w: Workload,
  engine: Engine,
  ctx: Omit<SampleContext, 'engine'>,
  options: Options,
): Promise<Sample> {
  if (options.oneProcess || !workloads.includes(w)) return w.sample({ ...ctx, engine });
  let child = processes.get(engine.name);
  if (!child) processes.set(engine.name, (child = new EngineProcess(engine.name, process.argv.includes('--source'))));
  return child.sample(w.id, ctx);
}

type Samples = Map<string, number[]>; // `${workload}|${store}|${engine}|${metric}` → values

const sampleKey = (w: string, s: StoreKind, e: EngineName, m: string): string => `${w}|${s}|${e}|${m}`;

async function runWorkload(
  w: Workload,
  options: Options,
  dir: string,
  samples: Samples,
  notes: Set<string>,
): Promise<void> {
  for (const store of w.stores) {
    for (const engine of engines) {
      process.stderr.write(`${w.id} ${store} ${engine.name}: warm-up\n`);
      await takeSample(w, engine, { store, quick: options.quick, warmup: true, rep: 0, dir }, options);
    }
    for (let rep = 0; rep < options.reps; rep++) {
      // Alternate which engine goes first, so neither always runs on a warmer or a more fragmented heap.
      const order = rep % 2 === 0 ? engines : [...engines].reverse();
      for (const engine of order) {
        const { values, notes: sampleNotes } = await takeSample(
          w,
          engine,
          { store, quick: options.quick, warmup: false, rep, dir },
          options,
        );
        for (const [metric, value] of Object.entries(values)) {
          const key = sampleKey(w.id, store, engine.name, metric);
          samples.set(key, [...(samples.get(key) ?? []), value]);
        }
        for (const n of sampleNotes ?? []) notes.add(`${w.id}: ${n}`);
        const shown = Object.entries(values)
          .map(([m, v]) => `${m}=${formatNumber(v)}`)
          .join(' ');
        process.stderr.write(`${w.id} ${store} ${engine.name} #${rep + 1}: ${shown}\n`);
      }
    }
  }
}

function report(selected: readonly Workload[], samples: Samples, notes: Set<string>, options: Options): string {
  const get = (w: string, s: StoreKind, e: EngineName, m: string): number | undefined =>
    median(samples.get(sampleKey(w, s, e, m)) ?? []);
  const lines: string[] = [];
  lines.push(
    `Medians of ${options.reps} repetitions${options.quick ? ' (--quick: smaller workloads)' : ''}; Weft / Mastra below 1 means Weft is faster.`,
  );
  lines.push('');
  lines.push('| Workload | Measure | Store (Weft / Mastra) | Weft | Mastra | Weft / Mastra |');
  lines.push('|---|---|---|---:|---:|---:|');
  const weft = engines.find((e) => e.name === 'weft')!;
  const mastra = engines.find((e) => e.name === 'mastra')!;
  for (const w of selected) {
    for (const store of w.stores) {
      for (const metric of w.metrics) {
        const a = get(w.id, store, 'weft', metric.key);
        const b = get(w.id, store, 'mastra', metric.key);
        let weftText = formatNumber(a);
        let mastraText = formatNumber(b);
        if (metric.key === 'ticks') {
          weftText += ` / ${formatNumber(get(w.id, store, 'weft', 'expectedTicks'))}`;
          mastraText += ` / ${formatNumber(get(w.id, store, 'mastra', 'expectedTicks'))}`;
        }
        const storeText = w.id === 'W9' ? '–' : `${weft.storeLabel[store]} / ${mastra.storeLabel[store]}`;
        const ratio = metric.ratio ? formatRatio(a, b) : '';
        lines.push(`| ${w.id} | ${metric.label} | ${storeText} | ${weftText} | ${mastraText} | ${ratio} |`);
      }
    }
  }
  if (notes.size > 0) {
    lines.push('');
    for (const n of notes) lines.push(`- ${n}`);
  }
  const checks = checkTargets(get).filter((c) => selected.some((w) => w.id === c.workload));
  if (checks.length > 0) {
    lines.push('');
    lines.push('| Target | Measured | Met |');
    lines.push('|---|---|:-:|');
    for (const c of checks)
      lines.push(`| ${c.text} | ${c.measured} | ${c.met === undefined ? '–' : c.met ? 'yes' : 'no'} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const all = [...workloads, ...processWorkloads];
  const unknown = [...options.selected].filter((id) => !all.some((w) => w.id === id));
  if (unknown.length > 0)
    throw new Error(`Unknown workload(s) ${unknown.join(', ')}; known: ${all.map((w) => w.id).join(', ')}`);
  const selected = options.selected.size === 0 ? all : all.filter((w) => options.selected.has(w.id));
  if (!process.argv.includes('--source')) builtEntry();
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const samples: Samples = new Map();
  const notes = new Set<string>();
  const began = performance.now();
  try {
    for (const w of selected) await runWorkload(w, options, dir, samples, notes);
  } finally {
    for (const child of processes.values()) child.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `\nWeft vs @mastra/core on ${cpus().length} × ${cpu}, Node ${process.version}; Weft from ${weftOrigin()}; ${options.oneProcess ? 'both engines in one process' : 'each engine in its own process'}; ${((performance.now() - began) / 1000).toFixed(0)} s\n\n`,
  );
  process.stdout.write(report(selected, samples, notes, options) + '\n');
}

if (process.argv.includes('--fan-out')) {
  const { runFanOutGroup } = await import('./postgres/fan-out.js');
  await runFanOutGroup(process.argv.slice(2));
} else if (process.argv.includes('--pg')) {
  const { runPostgresGroup } = await import('./postgres/run-postgres.js');
  await runPostgresGroup(process.argv.slice(2));
} else {
  await main();
}
