import { resolve } from 'node:path';
import type { LogLevel } from '../engine/events.ts';
import type { Store } from '../store/store.ts';
import type { StageExecutor } from '../engine/task.ts';

export const queueOption = { queue: { type: 'string' } } as const;
export const QUEUE_HELP = '  --queue URL         run stages on `pipeline worker`s through Redis: redis://[user:pass@]host:port[/db] or rediss://\n                      (TLS); default $PIPELINE_QUEUE; without it everything runs in this process';

/** The executor `--queue` / PIPELINE_QUEUE asks for, or undefined to run locally. Loads BullMQ only when used. */
export async function queueExecutor(url: string | undefined, store: Store, log: (level: LogLevel, message: string) => void): Promise<StageExecutor | undefined> {
  const where = url ?? process.env.PIPELINE_QUEUE;
  if (!where) return undefined;
  const [{ QueueExecutor }, { parseRedisUrl }] = await Promise.all([import('../queue/queue-executor.ts'), import('../queue/redis-url.ts')]);
  return QueueExecutor.connect({ redis: parseRedisUrl(where), store, root: resolve('.'), log });
}
