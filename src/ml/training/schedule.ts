/** Learning-rate schedules, applied per epoch (1-based). */
export type ScheduleConfig =
  | { type: 'constant' }
  | { type: 'step'; step_size: number; gamma: number }
  | { type: 'multistep'; milestones: number[]; gamma: number }
  | { type: 'cosine'; min_lr: number; warmup_epochs: number }
  | { type: 'plateau'; factor: number; patience: number; min_lr: number };

/** Reduce-on-plateau's memory, checkpointed with the model so a resumed run continues it. */
export interface ScheduleState {
  lr: number;
  best: number;
  badEpochs: number;
}

export function initialScheduleState(baseLr: number): ScheduleState {
  return { lr: baseLr, best: Infinity, badEpochs: 0 };
}

/** The learning rate for `epoch` (1-based) of `epochs`. */
export function learningRate(config: ScheduleConfig, baseLr: number, epoch: number, epochs: number, state: ScheduleState): number {
  switch (config.type) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * config.gamma ** Math.floor((epoch - 1) / config.step_size);
    case 'multistep': {
      // MultiStepLR: epoch e (1-based) runs at gamma^(milestones passed before it), a milestone m < 1 meaning round(m * epochs).
      const passed = config.milestones.filter((m) => (m < 1 ? Math.round(m * epochs) : m) < epoch).length;
      return baseLr * config.gamma ** passed;
    }
    case 'cosine': {
      if (epoch <= config.warmup_epochs) return (baseLr * epoch) / (config.warmup_epochs + 1);
      const span = Math.max(1, epochs - config.warmup_epochs);
      const t = Math.min(1, (epoch - 1 - config.warmup_epochs) / span);
      return config.min_lr + 0.5 * (baseLr - config.min_lr) * (1 + Math.cos(Math.PI * t));
    }
    case 'plateau':
      return state.lr;
  }
}

/** After an epoch: reduce-on-plateau watches the validation loss (lower is better). */
export function observeEpoch(config: ScheduleConfig, state: ScheduleState, valLoss: number): ScheduleState {
  if (config.type !== 'plateau' || !Number.isFinite(valLoss)) return state;
  if (valLoss < state.best - 1e-4) return { ...state, best: valLoss, badEpochs: 0 };
  const bad = state.badEpochs + 1;
  if (bad > config.patience) return { lr: Math.max(config.min_lr, state.lr * config.factor), best: state.best, badEpochs: 0 };
  return { ...state, badEpochs: bad };
}
