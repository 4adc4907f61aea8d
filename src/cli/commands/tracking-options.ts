import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/store.ts';
import { openReader } from '../../tracking/connection.ts';
import type { TrackReader } from '../../tracking/model.ts';

/** Options shared by the tracking commands (`runs compare`, `runs sync`, `ui`). */
export const trackingOptions = { store: { type: 'string' }, 'tracking-uri': { type: 'string' } } as const;

export const TRACKING_HELP = `  --store DIR|URL       store location (default: .pipeline in the project folder, or $PIPELINE_STORE); the local tracker lives there
  --tracking-uri URL    MLflow server (default $MLFLOW_TRACKING_URI; without either, the local tracker)`;

/** The store and the tracking reader; `readOnly` for commands that only read tracked runs. */
export async function openTracking(values: { store?: string; 'tracking-uri'?: string }, options: { readOnly?: boolean } = {}): Promise<{ store: Store; reader: TrackReader }> {
  const store = await openStore(values.store, options);
  try {
    return { store, reader: openReader({ store, uri: values['tracking-uri'] }) };
  } catch (err) {
    await store.close();
    throw err;
  }
}
