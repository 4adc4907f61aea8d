import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, positiveInt, UsageError } from '../args.ts';
import { writeDemoSet } from '../../ops/dicom/demo-set.ts';

const usage = 'pipeline demo-data DIR [--patients N] [--seed S] [--size PX] [--lesions N]';

export const demoDataCommand: Command = {
  name: 'demo-data',
  help: `usage: ${usage}

Writes deterministic synthetic chest X-ray DICOMs (findings: Cardiomegaly, Nodule/Mass,
Pleural effusion, or No finding) into DIR as <image_id>.dcm, plus DIR/labels.csv in VinBigData
format (3 readers per image). Files vary transfer syntax, bit depth, photometric and VOI header
like real files do. Patient names and ids are fake.
  --patients N   patients, each with 1-3 images (default 50)
  --seed S       PRNG seed (default 0); the same seed gives identical files
  --size PX      image width and height (default 256)
  --lesions N    detection demo: instead of those findings, 0..N Nodule/Mass disc lesions per image
                 with their exact boxes (1 reader; images without lesions are No finding)
Then ingest them with: uses: ingest-dicom, with: { source: DIR, labels: DIR/labels.csv }`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { patients: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' }, lesions: { type: 'string' } }, { min: 1, max: 1, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const seed = values.seed === undefined ? 0 : Number(values.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got ${JSON.stringify(values.seed)}`);
    const size = positiveInt(values.size, '--size') ?? 256;
    if (size < 32) throw new UsageError('--size must be at least 32');
    const dir = resolve(positionals[0]);
    await mkdir(dir, { recursive: true });
    const lesions = positiveInt(values.lesions, '--lesions');
    if (lesions !== undefined && lesions > 10) throw new UsageError('--lesions must be at most 10');
    const options = { patients: positiveInt(values.patients, '--patients') ?? 50, seed, size, ...(lesions ? { lesions: { max: lesions, classes: ['Nodule/Mass' as const], readers: 1, jitter: 0 } } : {}) };
    const summary = await writeDemoSet(options, (name, bytes) => writeFile(join(dir, name), bytes));
    await writeFile(join(dir, 'labels.csv'), summary.labelsCsv);
    console.log(`wrote ${summary.images} DICOM files of ${summary.patients} patients and labels.csv to ${dir}`);
    console.log(Object.entries(summary.counts).map(([k, v]) => `  ${k}: ${v}`).join('\n'));
    return ExitCode.ok;
  },
};
