import type { CommandEntry } from '../command.ts';

/**
 * Every top-level command, in the order `pipeline --help` lists them. A command's module (and what it
 * imports) is loaded only when that command runs.
 */
export const commands: CommandEntry[] = [
  { name: 'run', summary: 'run an experiment (reusing every cached stage output)', load: async () => (await import('./run.ts')).runCommand },
  { name: 'plan', summary: 'say which stages would run and why, without running anything', load: async () => (await import('./plan.ts')).planCommand },
  { name: 'status', summary: 'compare the workspace with pipeline.lock: which stage outputs are out of date and why', load: async () => (await import('./status.ts')).statusCommand },
  { name: 'checkout', summary: 'restore the outputs pipeline.lock records from the store, without running anything', load: async () => (await import('./checkout.ts')).checkoutCommand },
  { name: 'push', summary: 'copy stage outputs to a remote store (shared folder or GridFS): only what it lacks, resumable', load: async () => (await import('./push-pull.ts')).pushCommand },
  { name: 'pull', summary: 'copy the stage outputs pipeline.lock records from a remote store', load: async () => (await import('./push-pull.ts')).pullCommand },
  { name: 'dag', summary: 'print the stage graph as text, Mermaid or Graphviz dot', load: async () => (await import('./dag.ts')).dagCommand },
  { name: 'runs', summary: 'list and inspect recorded runs (list, show, compare, sync)', load: async () => (await import('./runs.ts')).runsCommand },
  { name: 'models', summary: 'the model registry: registered models, their versions and aliases (list, show, promote)', load: async () => (await import('./models.ts')).modelsCommand },
  { name: 'export', summary: "write a stage's output as ordinary files (refuses a stale one)", load: async () => (await import('./export.ts')).exportCommand },
  { name: 'ui', summary: 'dashboard: runs table, comparisons, learning and ROC curves, confusion matrices, Grad-CAM', load: async () => (await import('./ui.ts')).uiCommand },
  { name: 'schedule', summary: 'run an experiment on a cron schedule (never overlapping), promoting better runs to champion', load: async () => (await import('./schedule.ts')).scheduleCommand },
  { name: 'worker', summary: 'take stage work from a Redis queue (BullMQ) and run it against a shared store', load: async () => (await import('./worker.ts')).workerCommand },
  { name: 'demo-data', summary: 'write synthetic chest X-ray DICOMs with a VinBigData labels CSV', load: async () => (await import('./demo-data.ts')).demoDataCommand },
  { name: 'gc', summary: 'free stored artifacts, cache entries and blobs that no latest output references', load: async () => (await import('./gc.ts')).gcCommand },
  { name: 'schema', summary: 'print the JSON Schema of experiment files (for editors)', load: async () => (await import('./schema.ts')).schemaCommand },
];

/** Sub-commands of `pipeline runs` beyond list and show. */
export const runsSubcommands: CommandEntry[] = [
  { name: 'runs compare', summary: 'compare tracked runs: params that differ, metrics side by side with deltas and CIs', load: async () => (await import('./runs-compare.ts')).runsCompareCommand },
  { name: 'runs sync', summary: 'send tracking data buffered while the MLflow server was down', load: async () => (await import('./runs-sync.ts')).runsSyncCommand },
];
