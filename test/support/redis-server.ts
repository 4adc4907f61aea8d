import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { INSTALL_COMMAND } from './reference-tools.ts';

/**
 * Why Redis tests cannot run here (no redis-server), or undefined. `.ci/run` installs it and sets
 * PIPELINE_REQUIRE_REFERENCE_TOOLS=1, which turns the skip into a failure.
 */
export const redisMissing: string | undefined = (() => {
  if (!spawnSync('redis-server', ['--version']).error) return undefined;
  const reason = `needs Debian's redis-server; install the reference tools with: ${INSTALL_COMMAND}`;
  if (process.env.PIPELINE_REQUIRE_REFERENCE_TOOLS === '1') throw new Error(`PIPELINE_REQUIRE_REFERENCE_TOOLS=1 and this test ${reason}`);
  return reason;
})();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface RedisServerOptions {
  /** requirepass */
  password?: string;
  /** TLS only (rediss://), with this certificate and key (PEM files); clients trust `cert`. */
  tls?: { cert: string; key: string };
}

/** A real redis-server on a free loopback port, without persistence (a restart loses every job). */
export class RedisServer {
  private child?: ChildProcess;
  private dir?: string;
  port = 0;

  constructor(private readonly options: RedisServerOptions = {}) {}

  /** The URL clients use (with the password, if any). */
  get url(): string {
    const auth = this.options.password ? `:${encodeURIComponent(this.options.password)}@` : '';
    return `${this.options.tls ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}`;
  }

  async start(port?: number): Promise<this> {
    this.port = port ?? this.port ?? 0;
    if (!this.port) this.port = await freePort();
    this.dir ??= await mkdtemp(join(tmpdir(), 'pipeline-redis-'));
    const { tls, password } = this.options;
    const listen = tls ? ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no'] : ['--port', String(this.port)];
    this.child = spawn('redis-server', [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...(password ? ['--requirepass', password] : [])], { stdio: 'ignore' });
    await this.waitReady();
    return this;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + 10_000;
    const { tls, password } = this.options;
    const ca = tls ? await readFile(tls.cert) : undefined;
    while (Date.now() < deadline) {
      const c = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...(password ? { password } : {}), ...(ca ? { tls: { ca } } : {}) });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.ping();
        c.disconnect();
        return;
      } catch {
        c.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Kills the server (SIGKILL) and starts an empty one on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await this.start(this.port);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** Every value stored in the connected Redis database as text (hashes, strings, lists, streams, sets). */
export async function dumpRedis(client: Redis): Promise<string> {
  let dump = '';
  for (const key of await client.keys('*')) {
    const type = await client.type(key);
    if (type === 'hash') dump += JSON.stringify(await client.hgetall(key));
    else if (type === 'string') dump += await client.get(key);
    else if (type === 'list') dump += (await client.lrange(key, 0, -1)).join('\n');
    else if (type === 'stream') dump += JSON.stringify(await client.xrange(key, '-', '+'));
    else if (type === 'set') dump += (await client.smembers(key)).join('\n');
    else if (type === 'zset') dump += (await client.zrange(key, 0, -1)).join('\n');
    dump += '\n' + key + '\n';
  }
  return dump;
}
