import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFiles } from '../../src/util/glob.ts';

test('listFiles follows links to files and folders, each folder once, and leaves out broken links', async () => {
  const data = await mkdtemp(join(tmpdir(), 'glob-data-'));
  await mkdir(join(data, 'abnormal'));
  await writeFile(join(data, 'a.png'), 'a');
  await writeFile(join(data, 'abnormal', 'b.png'), 'b');
  const root = await mkdtemp(join(tmpdir(), 'glob-root-'));
  await mkdir(join(root, 'normal'));
  await writeFile(join(root, 'normal', 'own.png'), 'own');
  await symlink(join(data, 'a.png'), join(root, 'normal', 'linked.png'));
  await symlink(join(data, 'abnormal'), join(root, 'abnormal'));
  await symlink(join(data, 'missing.png'), join(root, 'normal', 'broken.png'));
  await symlink(root, join(root, 'normal', 'loop'));
  assert.deepEqual(await listFiles(root), ['abnormal/b.png', 'normal/linked.png', 'normal/own.png']);
  assert.deepEqual(await listFiles(root, 'normal/*.png'), ['normal/linked.png', 'normal/own.png']);
});
