// Loads an optional peer dependency (a driver an entry point needs), with a clear error when it is missing.
import { WeftError } from './errors.js';

/**
 * Imports `name` for the entry points that need it; when it is not installed, throws a
 * `PACKAGE_MISSING` error that names it and how to install it (any other failure is rethrown).
 *
 * @example
 * const pg = (await importOptional('pg', 'weft/postgres', () => import('pg'))).default;
 */
export async function importOptional<T>(name: string, neededBy: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((error as Error).message).includes(`'${name}'`);
    if (!missing) throw error;
    throw new WeftError(
      'PACKAGE_MISSING',
      `Cannot load "${name}", which ${neededBy} needs: it is an optional peer dependency of weft, so install it next to weft (npm install ${name})`,
      { cause: error },
    );
  }
}
