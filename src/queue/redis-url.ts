import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import { redactUrlPasswords } from '../util/redact.ts';

export interface RedisTarget {
  /** ioredis options (may hold the password: never log them). */
  options: RedisOptions;
  /** The URL without its password, for messages. */
  display: string;
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://...` (TLS). The password may also
 * come from REDIS_PASSWORD (so it need not appear in a command line or a manifest).
 */
export function parseRedisUrl(url: string, env: Record<string, string | undefined> = process.env): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a Redis URL: ${redactRedisUrl(url)} (expected redis://host:port[/db] or rediss://...)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`not a Redis URL: ${redactRedisUrl(url)} (expected redis:// or rediss://)`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`bad database number in ${redactRedisUrl(url)}: use redis://host:port/0`);
  const password = u.password ? decodeURIComponent(u.password) : env.REDIS_PASSWORD || undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const options: RedisOptions = {
    host,
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(password ? { password } : {}),
    // TLS verifies the server's certificate against Node's CAs (add yours with NODE_EXTRA_CA_CERTS).
    ...(u.protocol === 'rediss:' ? { tls: isIP(host) ? {} : { servername: host } } : {}),
  };
  return { options, display: redactRedisUrl(url) };
}

/** The URL with any password replaced by `***`. */
export function redactRedisUrl(url: string): string {
  return redactUrlPasswords(url);
}
