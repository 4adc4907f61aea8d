import { z } from 'zod';
import type { TrainGraph } from './train-graph.ts';

export const STEPS_PER_RUN_ENV = 'PIPELINE_ORT_STEPS_PER_RUN';

/**
 * Steps per run when the step's state (parameters, optimizer slots, moving statistics) is at least
 * CHAINED_STATE_BYTES: onnxruntime-node copies every output of a run, so a run of 4 steps copies the state
 * once instead of 4 times. Measured (bench/results/train.md round 9, 2 threads): ResNet-18 (135 MB of
 * state) 1.10-1.12x per step with 4, 1.11-1.13x with 8; small-cnn (1 MB) 1.015x, within the noise.
 */
const CHAINED_STEPS = 4;
const CHAINED_STATE_BYTES = 100 * 2 ** 20;

const override = z.coerce.number().int().min(1).max(64);

/** `PIPELINE_ORT_STEPS_PER_RUN` (unset or empty: undefined); a clear error naming the variable unless an integer 1-64. */
export function stepsPerRunEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env[STEPS_PER_RUN_ENV];
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = override.safeParse(value.trim());
  if (!parsed.success) throw new Error(`${STEPS_PER_RUN_ENV} must be an integer from 1 to 64, got ${JSON.stringify(value)}`);
  return parsed.data;
}

/**
 * Optimizer steps per `session.run` for a step graph: `PIPELINE_ORT_STEPS_PER_RUN` when set, else 4 for a
 * graph whose state is large enough that the copy shows, else 1. A graph exposing its gradients: 1.
 */
export function stepsPerRun(graph: TrainGraph, env: NodeJS.ProcessEnv = process.env): number {
  const given = stepsPerRunEnv(env);
  if (graph.gradients) return 1;
  return given ?? (stateBytes(graph) >= CHAINED_STATE_BYTES ? CHAINED_STEPS : 1);
}

/** Bytes a step hands back: the parameters and each optimizer slot, the moving statistics. */
export function stateBytes(graph: TrainGraph): number {
  return 4 * (graph.params.size * (1 + graph.slots.length) + (graph.stats?.size ?? 0));
}
