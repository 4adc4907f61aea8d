import { readFileSync } from 'node:fs';
import { sha256 } from '../../src/util/hash.ts';
import { NIH_FIXTURES } from '../support/fixtures.ts';

/**
 * Dataset rows for the 1,000 real NIH X-rays' labels (no pixels needed by split stages): patient = first
 * 8 digits of the NIH file name, labels ['No finding'] or ['Finding'], split from the uploader's file.
 * `image` is a stand-in digest so tests can check that stages pass image digests through.
 */
export function nihRows() {
  const lines = readFileSync(`${NIH_FIXTURES}/labels.csv`, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [image, , split, name, nih] = line.split(',');
    return { id: nih.replace('.png', ''), patient: `P${sha256(nih.slice(0, 8)).slice(0, 10)}`, labels: [name === 'normal' ? 'No finding' : 'Finding'], image: sha256(image), width: 64, height: 64, source_split: split };
  });
}
