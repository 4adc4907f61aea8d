import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitHead } from '../../src/util/git-head.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' }).trim();

test('gitHead reads the commit as git does: branch, packed refs, detached HEAD, a linked worktree, a sub-folder; none outside a repo', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'git-head-'));
  try {
    const repo = join(dir, 'repo');
    await mkdir(join(repo, 'sub'), { recursive: true });
    git(repo, 'init', '-q', '-b', 'main');
    assert.equal(await gitHead(repo), undefined, 'a branch with no commit yet');
    await writeFile(join(repo, 'sub/a.txt'), 'a');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'one');
    assert.equal(await gitHead(join(repo, 'sub')), git(repo, 'rev-parse', 'HEAD'));
    git(repo, 'pack-refs', '--all');
    assert.equal(await gitHead(repo), git(repo, 'rev-parse', 'HEAD'), 'packed refs');
    await writeFile(join(repo, 'b.txt'), 'b');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'two');
    git(repo, 'worktree', 'add', '-q', '-b', 'other', join(dir, 'linked'), 'HEAD~1');
    assert.equal(await gitHead(join(dir, 'linked')), git(join(dir, 'linked'), 'rev-parse', 'HEAD'));
    assert.notEqual(await gitHead(join(dir, 'linked')), await gitHead(repo));
    git(repo, 'checkout', '-q', '--detach', 'HEAD~1');
    assert.equal(await gitHead(repo), git(repo, 'rev-parse', 'HEAD'), 'detached');
    const outside = join(dir, 'plain');
    await mkdir(outside);
    // Only when no folder above the temp dir is a git work tree (as on CI machines).
    if (!(() => { try { return git(outside, 'rev-parse', '--git-dir'); } catch { return undefined; } })()) assert.equal(await gitHead(outside), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
