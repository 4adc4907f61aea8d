import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, type Node } from 'yaml';
import { DiagnosticError, type SourceLocation } from '../engine/diagnostics.ts';

export type PathKey = string | number;

/** A parsed YAML file that can tell where any value in it came from. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Location of the node at `path` (of its key, for a mapping entry, with `at: 'key'`), or of its nearest existing ancestor. */
  locate(path: readonly PathKey[], at?: 'key' | 'value'): SourceLocation;
  /** Whether `path` exists in this file. */
  has(path: readonly PathKey[]): boolean;
}

export async function loadYamlFile(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: any) {
    throw new DiagnosticError([
      { message: err.code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${err.message}`, location: { file, line: 1, col: 1 } },
    ]);
  }
  return parseYamlText(text, file);
}

export function parseYamlText(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length) {
    throw new DiagnosticError(
      doc.errors.map((e) => ({ message: `YAML syntax error: ${e.message.split('\n')[0]}`, location: at(e.pos[0]), hint: 'check indentation, colons and quotes near this position' })),
    );
  }

  const nodeAt = (path: readonly PathKey[], at: 'key' | 'value' = 'value'): { node: Node | null; depth: number } => {
    let node: unknown = doc.contents;
    let depth = 0;
    for (const [i, key] of path.entries()) {
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
        // A key with an empty value has no value node: point at the key itself.
        next = pair ? (at === 'key' && i === path.length - 1 ? pair.key : (pair.value ?? pair.key)) : undefined;
      } else if (isSeq(node) && /^\d+$/.test(String(key))) next = node.items[Number(key)];
      if (!next) break;
      node = next;
      depth++;
    }
    return { node: (node as Node) ?? null, depth };
  };

  return {
    file,
    value: doc.toJS({ maxAliasCount: 1000 }) ?? {},
    locate(path, which) {
      const { node } = nodeAt(path, which);
      return node?.range ? at(node.range[0]) : { file, line: 1, col: 1 };
    },
    has(path) {
      return nodeAt(path).depth === path.length;
    },
  };
}
