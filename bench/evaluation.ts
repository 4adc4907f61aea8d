// Macro ROC-AUC with a 1000-replicate bootstrap CI: our src/ops/metrics against scikit-learn (bench/evaluation.py)
// on the same predictions file. Prints: cpu_seconds value ci_low ci_high
import { readFileSync } from 'node:fs';
import { averageBinaryMetric, bootstrapSamples, percentileInterval, rocAuc } from '../src/ops/metrics/index.ts';

const { truth, scores, replicates } = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { truth: number[][]; scores: number[][]; replicates: number };
const start = process.cpuUsage();
const value = averageBinaryMetric(rocAuc, truth, scores, 'macro');
const samples = bootstrapSamples(truth.length, replicates, 1);
const ci = percentileInterval((idx) => averageBinaryMetric(rocAuc, idx.map((i) => truth[i]), idx.map((i) => scores[i]), 'macro'), samples);
const used = process.cpuUsage(start);
console.log(((used.user + used.system) / 1e6).toFixed(3), value, ci.low, ci.high);
