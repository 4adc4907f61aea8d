import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';

/**
 * The commit checked out in the git work tree holding `dir`, read from the repository's files (HEAD, the
 * ref it names, packed-refs; linked work trees through `gitdir:` and `commondir`) instead of starting a
 * `git` process. Undefined outside a git work tree; `null` when the layout is not one this reader knows
 * (the caller may ask git itself).
 */
export async function gitHead(dir: string): Promise<string | undefined | null> {
  const gitDir = await findGitDir(resolve(dir));
  if (!gitDir) return undefined;
  const head = (await readText(join(gitDir, 'HEAD')))?.trim();
  if (!head) return null;
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const ref = /^ref: (refs\/\S+)$/.exec(head)?.[1];
  if (!ref) return null;
  const common = await commonDir(gitDir);
  for (const base of [gitDir, common]) {
    const loose = (await readText(join(base, ref)))?.trim();
    if (loose && /^[0-9a-f]{40}$/.test(loose)) return loose;
  }
  const packed = await readText(join(common, 'packed-refs'));
  const line = packed?.split('\n').find((l) => l.endsWith(` ${ref}`));
  const sha = line?.split(' ')[0];
  if (sha && /^[0-9a-f]{40}$/.test(sha)) return sha;
  // A branch with no commit yet has no ref.
  return packed !== undefined || (await readText(join(common, 'HEAD'))) !== undefined ? undefined : null;
}

async function findGitDir(start: string): Promise<string | undefined> {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, '.git');
    const info = await stat(candidate).catch(() => undefined);
    if (info?.isDirectory()) return candidate;
    if (info?.isFile()) {
      const target = /^gitdir: (.+)$/m.exec((await readText(candidate)) ?? '')?.[1]?.trim();
      return target ? (isAbsolute(target) ? target : resolve(dir, target)) : undefined;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

async function commonDir(gitDir: string): Promise<string> {
  const common = (await readText(join(gitDir, 'commondir')))?.trim();
  return common ? (isAbsolute(common) ? common : resolve(gitDir, common)) : gitDir;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
