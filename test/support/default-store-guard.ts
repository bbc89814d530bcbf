// Global set-up of the suites: the default store (WEFT_DB) is a path no store can open, so that a test
// that forgets `storage` fails where it opens it, instead of leaving .weft/weft.db in the repository.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'weft-default-store-'));
  // A file where the database's directory would be: opening fails (ENOTDIR) with this path in the message.
  const blocker = join(dir, 'tests-pass-storage-to-new-Weft-or-set-their-own-WEFT_DB');
  writeFileSync(blocker, '');
  process.env.WEFT_DB = join(blocker, 'weft.db');
  return () => rmSync(dir, { recursive: true, force: true });
}
