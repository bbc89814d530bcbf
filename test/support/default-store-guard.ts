// Global set-up of the suites: the default store (WEFT_DB) is a file no test may open, so that a test
// that forgets `storage` fails the run instead of leaving .weft/weft.db in the repository.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'weft-default-store-'));
  const path = join(dir, 'weft.db');
  process.env.WEFT_DB = path;
  return () => {
    const opened = existsSync(path);
    rmSync(dir, { recursive: true, force: true });
    if (opened) {
      throw new Error(
        `A test opened the default store (WEFT_DB=${path}): pass \`storage\` to new Weft (new MemoryStorage() for memory), or set a WEFT_DB of its own`,
      );
    }
  };
}
