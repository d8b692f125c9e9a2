import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractZip, ExtractZipError } from '../../src/runtime/lambda/zip.js';
import { buildZip, cleanupTempDirs, tempDir } from '../helpers/lambda.js';
import yazl from 'yazl';

/** yazl refuses unsafe names, so the hostile archive is made by renaming bytes in place. */
function rename(zip: Buffer, from: string, to: string): Buffer {
  assert.equal(from.length, to.length);
  return Buffer.from(zip.toString('latin1').split(from).join(to), 'latin1');
}

function symlinkZip(name: string, target: string, then?: [string, string]): Promise<Buffer> {
  const z = new yazl.ZipFile();
  z.addBuffer(Buffer.from(target), name, { mode: 0o120777 });
  if (then) z.addBuffer(Buffer.from(then[1]), then[0]);
  z.end();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('extractZip', () => {
  after(cleanupTempDirs);

  it('extracts files and directories, keeping the executable bit', async () => {
    const dest = tempDir();
    const zip = await buildZip({ 'index.js': 'x', 'lib/deep/a.txt': 'deep', bootstrap: { content: '#!/bin/sh\n', mode: 0o755 } });
    const zipPath = join(tempDir(), 'code.zip');
    writeFileSync(zipPath, zip);
    const r = await extractZip(zipPath, dest);
    assert.equal(r.files, 3);
    assert.equal(readFileSync(join(dest, 'lib/deep/a.txt'), 'utf8'), 'deep');
    assert.equal(statSync(join(dest, 'bootstrap')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dest, 'index.js')).mode & 0o111, 0);
  });

  it('refuses entries that escape the directory (zip-slip)', async () => {
    const parent = tempDir();
    const dest = join(parent, 'out');
    const zip = rename(await buildZip({ 'xx/evil.txt': 'pwned', 'ok.txt': 'fine' }), 'xx/evil.txt', '../evil.txt');
    await assert.rejects(extractZip(zip, dest), (e: unknown) => e instanceof ExtractZipError && e.reason === 'unsafe-path');
    assert.ok(!existsSync(join(parent, 'evil.txt')));
    const abs = rename(await buildZip({ 'xtmp/evil.txt': 'pwned' }), 'xtmp/evil.txt', '/tmp/evil.txt');
    await assert.rejects(extractZip(abs, tempDir()), (e: unknown) => e instanceof ExtractZipError && e.reason === 'unsafe-path');
  });

  it('refuses symlinks pointing outside, and writes through none', async () => {
    const outside = tempDir();
    await assert.rejects(extractZip(await symlinkZip('link', outside, ['link/file.txt', 'pwned']), tempDir()), (e: unknown) => e instanceof ExtractZipError && e.reason === 'unsafe-path');
    assert.ok(!existsSync(join(outside, 'file.txt')));
    const dest = tempDir();
    await extractZip(await symlinkZip('lib/current', 'v1'), dest);
    assert.ok(lstatSync(join(dest, 'lib/current')).isSymbolicLink());
    assert.equal(readlinkSync(join(dest, 'lib/current')), 'v1');
  });

  it('stops at the unzipped size limit, counting bytes actually written', async () => {
    const zip = await buildZip({ 'a.bin': Buffer.alloc(600_000), 'b.bin': Buffer.alloc(600_000) });
    await assert.rejects(extractZip(zip, tempDir(), { maxBytes: 1_000_000 }), (e: unknown) => e instanceof ExtractZipError && e.reason === 'too-large' && /smaller than 1000000 bytes/.test(e.message));
  });

  it('reports a corrupt archive as invalid', async () => {
    await assert.rejects(extractZip(Buffer.from('not a zip at all'), tempDir()), (e: unknown) => e instanceof ExtractZipError && e.reason === 'invalid-zip');
  });
});
