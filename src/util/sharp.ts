import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/**
 * sharp (libvips), imported on first use: loading it costs a few hundred milliseconds, which commands
 * that never touch an image (plan, dag, runs, a fully cached run) should not pay.
 */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
