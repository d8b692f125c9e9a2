// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv[2];
const files = find('dist/test').filter((f) => !filter || f.includes(filter)).sort();
if (files.length === 0) {
  console.error(`no test files found${filter ? ` matching ${filter}` : ''}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
