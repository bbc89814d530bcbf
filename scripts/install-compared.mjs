// Installs the engines Weft is compared with (bench/package.json: @mastra/core, @mastra/libsql, DBOS)
// into bench/node_modules, for the benchmarks and the differential tests. They stay out of the main
// install because they declare Node >= 22 (they run on 20); their engine warnings are not shown here.
// Does nothing when bench/node_modules is newer than bench/package-lock.json.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const lock = 'bench/package-lock.json';
const marker = 'bench/node_modules/.package-lock.json';
if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) process.exit(0);

console.error('Installing the engines Weft is compared with (bench/package.json) into bench/node_modules...');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--prefix', 'bench', '--no-audit', '--no-fund', '--loglevel=error'], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
