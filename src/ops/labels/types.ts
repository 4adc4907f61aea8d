import type { Box } from '../../data-model.ts';

/** Labels joined onto one image from a labels source. */
export interface ImageLabels {
  labels: string[];
  boxes?: Box[];
  patient?: string;
  split?: 'train' | 'val' | 'test';
}
