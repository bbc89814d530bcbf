// The floor of a sequential workload (P1, P3): the statements Weft sends for one unit of it (a 10-step run,
// a suspend → resume round trip), captured in the driver and replayed alone, one after another as the
// engine sends them, on fresh run ids, through the same driver, with no engine around them. What a replayed
// unit takes is what its durable writes cost on this server and this driver; the engine's own time is the rest.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type PgModule from 'pg';
import { recordStatements } from './count-statements.js';
import { openWeft, WEFT_DRIVER_FROM, type PgEngine } from './engines.js';

interface Captured {
  text: string;
  name?: string;
  values: unknown[];
}

/** One unit of a workload on an engine. */
export type Unit = (engine: PgEngine, n: number) => Promise<number>;

/** The statements of one `unit` of Weft on `url` (after one to warm it up), and the run id they carry. */
async function captureUnit(url: string, unit: Unit): Promise<{ statements: Captured[]; runId: string }> {
  const weft = await openWeft(url);
  await unit(weft, 0);
  const statements: Captured[] = [];
  recordStatements(([query, values]) =>
    statements.push(
      typeof query === 'string'
        ? { text: query, values: (values as unknown[] | undefined) ?? [] }
        : { ...(query as Captured), values: [...((query as Captured).values ?? [])] },
    ),
  );
  await unit(weft, 1);
  recordStatements(undefined);
  await weft.close();
  // The run's id is the first value of its statements; the engine's own background statements (a recovery
  // pass) that went out meanwhile name no run of the unit and are left out.
  const runId = mostNamed(
    statements.map((statement) => statement.values[0]),
    statements,
  );
  const own = statements.filter((statement) => statement.values.includes(runId));
  if (own.length === 0) throw new Error('the floor found no statement of the unit to replay');
  return { statements: own, runId };
}

/** The string among `candidates` that the most statements carry among their values. */
function mostNamed(candidates: unknown[], statements: Captured[]): string {
  let best = '';
  let most = 0;
  for (const candidate of candidates) {
    if (typeof candidate !== 'string') continue;
    const named = statements.filter((statement) => statement.values.includes(candidate)).length;
    if (named > most) [best, most] = [candidate, named];
  }
  return best;
}

/**
 * Replays Weft's statements of one `unit` `warmup` times, then `count` times measured; answers with the
 * measured milliseconds and the statements replayed meanwhile. Each statement must change its row, as it
 * did for the engine: a replay that changed nothing is an error.
 */
export async function floor(
  url: string,
  unit: Unit,
  warmup: number,
  count: number,
): Promise<{ ms: number; statements: number }> {
  const { statements, runId } = await captureUnit(url, unit);
  const pg = createRequire(WEFT_DRIVER_FROM)('pg') as typeof PgModule;
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const replay = async () => {
    const id = randomUUID();
    for (const { text, name, values } of statements) {
      const query = { text, values: values.map((value) => (value === runId ? id : value)) };
      const result = await pool.query(name ? { ...query, name } : query);
      if (!result.rowCount) throw new Error(`the floor's replay changed nothing: ${text.slice(0, 80)}`);
    }
  };
  for (let i = 0; i < warmup; i++) await replay();
  const started = performance.now();
  for (let i = 0; i < count; i++) await replay();
  const ms = performance.now() - started;
  await pool.end();
  return { ms, statements: statements.length * count };
}
