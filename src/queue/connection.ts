import { Redis } from 'ioredis';
import type { RedisTarget } from './redis-url.ts';

/**
 * A Redis connection for BullMQ (which needs `maxRetriesPerRequest: null`): it reconnects forever,
 * and reports errors to `onError` without the password (ioredis messages name host and port only).
 */
export function connect(target: RedisTarget, name: string, onError: (message: string) => void): Redis {
  const client = new Redis({
    ...target.options,
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 2000),
  });
  let last = '';
  client.on('error', (err: Error) => {
    const message = `${target.display}: ${err.message}`;
    if (message !== last) onError(message);
    last = message;
  });
  client.on('ready', () => (last = ''));
  return client;
}

/** Waits until the connection is ready, or fails with a clear message after `timeoutMs`. */
export async function ready(client: Redis, target: RedisTarget, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError = '';
    const onError = (err: Error) => (lastError = err.message);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`cannot reach Redis at ${target.display} within ${Math.round(timeoutMs / 1000)} s${lastError ? `: ${lastError}` : ''}`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    };
    client.on('ready', onReady);
    client.on('error', onError);
  });
}
