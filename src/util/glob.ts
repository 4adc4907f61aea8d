import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** Converts a glob (`**`, `*`, `?`, `{a,b}`) over `/`-separated relative paths to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      if (glob[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',' && re.includes('(?:')) re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * All files under `root` (recursively, sorted, `/`-separated relative paths), optionally filtered by a glob.
 * Symbolic links are followed, to files and to folders (datasets are often linked in rather than copied),
 * each folder once (a link back up the tree is not walked again); a broken link is left out.
 */
export async function listFiles(root: string, glob?: string): Promise<string[]> {
  const match = glob ? globToRegExp(glob) : undefined;
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = async (dir: string) => {
    const real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = join(dir, entry.name);
      let kind: 'dir' | 'file' | undefined = entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : undefined;
      if (entry.isSymbolicLink()) {
        const target = await stat(full).catch(() => undefined);
        kind = target?.isDirectory() ? 'dir' : target?.isFile() ? 'file' : undefined;
      }
      if (kind === 'dir') await walk(full);
      else if (kind === 'file') {
        const rel = relative(root, full).split(sep).join('/');
        if (!match || match.test(rel)) out.push(rel);
      }
    }
  };
  await walk(root);
  return out.sort();
}
