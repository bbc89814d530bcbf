// The `pg` driver, an optional peer dependency: loaded by `weft/postgres` and `weft/worker` only.
import type PgModule from 'pg';
import { importOptional } from '../../optional-package.js';

const pg: typeof PgModule = (await importOptional('pg', 'weft/postgres (and weft/worker)', () => import('pg'))).default;

export default pg;
