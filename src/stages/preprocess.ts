import { defineStage, lazyRun } from '../engine/stage.ts';
import { PreprocessParams } from './preprocess-params.ts';

export const preprocess = defineStage({
  name: 'preprocess',
  version: 4,
  description: 'Image-wise crop / auto-crop / mask / CLAHE / invert / resize / median in list order; boxes follow every geometric op',
  params: PreprocessParams,
  perItem: true,
  inputs: { min: 1, max: 1 },
  run: lazyRun(() => import('./preprocess.run.ts')),
});
