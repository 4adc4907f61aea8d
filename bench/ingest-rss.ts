// Peak RSS and time of ingest-dicom over a folder of DICOM files (run by bench/ingest-rss.sh).
// usage: node --import tsx bench/ingest-rss.ts generate DIR N   |   node --import tsx bench/ingest-rss.ts ingest DIR STORE_DIR
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDemoSet } from '../src/ops/dicom/demo-set.ts';
import { runStage } from '../src/testing/harness.ts';
import { FsStore } from '../src/store/fs-store.ts';
import { ingestDicom } from '../src/stages/ingest-dicom.ts';

const [mode, dir, n] = process.argv.slice(2);
if (mode === 'generate') {
  await mkdir(dir, { recursive: true });
  let written = 0;
  // ~2 images per patient; stop at exactly N files.
  await writeDemoSet({ patients: Math.ceil(Number(n) / 1.9), seed: 1, size: 64 }, async (name, bytes) => {
    if (written++ < Number(n)) await writeFile(join(dir, name), bytes);
  });
  console.log(JSON.stringify({ generated: Math.min(written, Number(n)) }));
} else if (mode === 'ingest') {
  // One run per process so that peak RSS is this run's; a second call on the same store is the no-op rerun.
  const store = await FsStore.open(process.argv[4], { durable: false });
  const t0 = performance.now();
  const r = await runStage(ingestDicom, { store, params: { source: dir, on_error: 'skip' }, concurrency: 8 });
  const progress = r.events.filter((e) => e.type === 'progress').at(-1) as any;
  console.log(JSON.stringify({
    tool: 'pipeline ingest-dicom',
    files: (r.artifact.meta.summary as any).files,
    ingested: (r.artifact.meta.summary as any).ingested,
    cached: progress?.items.cached,
    seconds: +((performance.now() - t0) / 1000).toFixed(2),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    digest: r.artifact.digest.slice(0, 12),
  }));
} else {
  console.error('usage: ingest-rss.ts generate DIR N | ingest DIR STORE_DIR');
  process.exit(2);
}
