// Where the benchmark loads Weft from: the compiled dist/ (default, what users run) or src/ through tsx (--source).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type WeftModule = typeof import('../src/index.js');
type SqliteModule = typeof import('../src/storage/sqlite/index.js');

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

let fromSource = process.env.WEFT_BENCH_SOURCE === '1';

/** Loads Weft from src/ (through tsx, which wraps every closure in a naming helper) instead of dist/. */
export function useSource(value: boolean): void {
  fromSource = value;
  // Child processes (W8) follow the parent's choice.
  process.env.WEFT_BENCH_SOURCE = value ? '1' : '0';
}

export function weftOrigin(): string {
  return fromSource ? 'src/ through tsx' : 'dist/ (tsc output)';
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** dist/index.js, compiled (tsc -p tsconfig.json) on the first call if missing or older than any file in src/. */
let checked = false;

export function builtEntry(): string {
  const entry = join(repoRoot, 'dist/index.js');
  if (checked) return entry;
  checked = true;
  if (!existsSync(entry) || statSync(entry).mtimeMs < newestSource(join(repoRoot, 'src'))) {
    process.stderr.write('compiling src/ to dist/ (tsc -p tsconfig.json)...\n');
    spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: repoRoot,
      stdio: 'ignore',
    });
    if (!existsSync(entry)) throw new Error('tsc did not produce dist/index.js');
  }
  return entry;
}

export async function loadWeft(): Promise<WeftModule> {
  if (fromSource) return import('../src/index.js');
  return (await import(pathToFileURL(builtEntry()).href)) as WeftModule;
}

export async function loadWeftSqlite(): Promise<SqliteModule> {
  if (fromSource) return import('../src/storage/sqlite/index.js');
  builtEntry();
  return (await import(pathToFileURL(join(repoRoot, 'dist/storage/sqlite/index.js')).href)) as SqliteModule;
}

type PostgresModule = typeof import('../src/storage/postgres/index.js');
type WorkerModule = typeof import('../src/worker/index.js');

/** `weft/postgres` and `weft/worker`, from the same place as `loadWeft`. */
export async function loadWeftPostgres(): Promise<PostgresModule & WorkerModule> {
  if (fromSource) {
    const [postgres, worker] = await Promise.all([
      import('../src/storage/postgres/index.js'),
      import('../src/worker/index.js'),
    ]);
    return { ...postgres, ...worker };
  }
  builtEntry();
  const [postgres, worker] = await Promise.all([
    import(pathToFileURL(join(repoRoot, 'dist/storage/postgres/index.js')).href) as Promise<PostgresModule>,
    import(pathToFileURL(join(repoRoot, 'dist/worker/index.js')).href) as Promise<WorkerModule>,
  ]);
  return { ...postgres, ...worker };
}
