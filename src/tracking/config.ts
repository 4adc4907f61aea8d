import { z } from 'zod';

export const promoteSchema = z
  .object({
    metric: z
      .string()
      .min(1)
      .describe('Metric that decides the champion: a final metric name (auc_macro) or instance/metric (evaluate/auc_macro) when several stages report it.'),
    mode: z.enum(['max', 'min']).default('max').describe('max: higher is better (AUC); min: lower is better (loss).'),
    min_delta: z.number().min(0).default(0).describe('A run must beat the champion by more than this to replace it.'),
    register: z.boolean().default(true).describe("Register the new champion's models as a new version in the model registry (MLflow's, or the local one) and move the alias to it."),
    model: z.string().min(1).max(256).optional().describe('Registered model name (default: the tracking experiment name).'),
    alias: z
      .string()
      .regex(/^[\w-]+$/, 'letters, digits, _ and - only')
      .refine((a) => a.toLowerCase() !== 'latest' && !/^v\d+$/i.test(a), 'MLflow reserves "latest" and v<number>')
      .default('champion')
      .describe('Alias moved to the champion version (MLflow 2.x registered model alias).'),
  })
  .strict();

/** The `tracking:` block of an experiment file. */
export const trackingConfigSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Set false to track nothing for this experiment.'),
    experiment: z.string().min(1).optional().describe('Experiment name in the tracker (default: the experiment file name).'),
    uri: z
      .string()
      .url()
      .optional()
      .describe('MLflow tracking server URL (overrides MLFLOW_TRACKING_URI). Without either, runs are tracked locally in the store.'),
    log_artifacts: z.boolean().default(true).describe('Upload report files (report.html, report.json, plots) of report artifacts.'),
    timeout_ms: z.number().int().positive().default(10_000).describe('Timeout of one request to the MLflow server.'),
    retries: z.number().int().min(0).max(10).default(3).describe('Retries (with exponential backoff) on connection errors and 5xx answers.'),
    flush_timeout_ms: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('At the end of a run, the longest wait for the server; what is not sent by then is buffered on disk and replayed later.'),
    promote: promoteSchema.optional().describe('Champion selection for scheduled runs: mark a run champion only if it beats the current one.'),
  })
  .strict();

export type TrackingConfig = z.output<typeof trackingConfigSchema>;
export type TrackingConfigInput = z.input<typeof trackingConfigSchema>;
export type PromoteConfig = z.output<typeof promoteSchema>;
