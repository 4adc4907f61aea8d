// The ratio lines of bench/anomaly.sh: ours / PyTorch for every rate both JSON lines report (bench/anomaly-bench.ts
// and bench/anomaly_bench.py `report`), per wall and per CPU second, after checking that both sides ran the same
// networks (parameter counts), batch, steps, images and settings, except those named in DIFFERENT (comma-separated:
// a comparison with another recipe on purpose, e.g. lipschitz for PyTorch's WGAN-GP), which the lines then name.
// usage: node --import tsx bench/anomaly-ratio.ts OURS_JSON TORCH_JSON [DIFFERENT]
import { pathToFileURL } from 'node:url';

interface Side {
  threads: number;
  params: Record<string, number>;
  rates: Record<string, { wall: number; cpu: number }>;
  [setting: string]: unknown;
}

/** Settings both sides must share for a ratio to compare like with like. */
const SAME = ['threads', 'size', 'batch', 'steps', 'width', 'bottleneck', 'images', 'lipschitz', 'n_critic'];

/** One line per rate both sides report; throws naming the difference when the two runs differ in parameters or in a setting not in `different`. */
export function ratioLines(ours: Side, torch: Side, different: readonly string[] = []): string[] {
  const unknown = different.filter((k) => !SAME.includes(k));
  if (unknown.length) throw new Error(`not a setting the sides report: ${unknown.join(', ')} (settings: ${SAME.join(', ')})`);
  const differs = SAME.filter((k) => !different.includes(k) && JSON.stringify(ours[k]) !== JSON.stringify(torch[k]));
  if (differs.length) throw new Error(`the two sides ran differently: ${differs.map((k) => `${k} ${JSON.stringify(ours[k])} vs ${JSON.stringify(torch[k])}`).join(', ')}`);
  if (JSON.stringify(ours.params) !== JSON.stringify(torch.params)) throw new Error(`parameter counts differ: ours ${JSON.stringify(ours.params)}, PyTorch ${JSON.stringify(torch.params)}`);
  const phases = Object.keys(ours.rates).filter((k) => k in torch.rates);
  if (!phases.length) throw new Error(`no rate on both sides (ours: ${Object.keys(ours.rates).join(', ')}; PyTorch: ${Object.keys(torch.rates).join(', ')})`);
  const r = (x: number, y: number) => `${(x / y).toFixed(2)}x`;
  const params = Object.entries(ours.params).map(([k, v]) => `${k} ${v}`).join(', ');
  const unlike = different.map((k) => `, ${k} ${JSON.stringify(ours[k])} vs ${JSON.stringify(torch[k])}`).join('');
  return [
    `  ${ours.threads} thread(s), parameters ${params} on both sides${unlike}:`,
    ...phases.map((k) => {
      const [a, b] = [ours.rates[k], torch.rates[k]];
      return `    ${k} ${a.wall} vs ${b.wall} img/s = ${r(a.wall, b.wall)} (per CPU s ${a.cpu} vs ${b.cpu} = ${r(a.cpu, b.cpu)})`;
    }),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [ours, torch] = process.argv.slice(2, 4).map((s) => JSON.parse(s) as Side);
  console.log(ratioLines(ours, torch, process.argv[4] ? process.argv[4].split(',') : []).join('\n'));
}
