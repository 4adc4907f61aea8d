import { readdir } from 'node:fs/promises';
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

/** All files under `root` (recursively, sorted, `/`-separated relative paths), optionally filtered by a glob. */
export async function listFiles(root: string, glob?: string): Promise<string[]> {
  const match = glob ? globToRegExp(glob) : undefined;
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const rel = relative(root, full).split(sep).join('/');
        if (!match || match.test(rel)) out.push(rel);
      }
    }
  };
  await walk(root);
  return out.sort();
}
