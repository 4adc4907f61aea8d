import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRedisUrl, redactRedisUrl } from '../../src/queue/redis-url.ts';
import { decodeJobError, encodeJobError, jobId, localPath, portablePath } from '../../src/queue/protocol.ts';
import { chunkRange } from '../../src/engine/context.ts';
import { redactUrlPasswords } from '../../src/util/redact.ts';

test('Redis URLs: host, port, db, user, password (also from REDIS_PASSWORD), TLS; printed without the password', () => {
  const t = parseRedisUrl('rediss://alice:p%40ss@redis.example:6380/3', {});
  assert.deepEqual(t.options, { host: 'redis.example', port: 6380, db: 3, username: 'alice', password: 'p@ss', tls: { servername: 'redis.example' } });
  assert.equal(t.display, 'rediss://alice:***@redis.example:6380/3');
  assert.deepEqual(parseRedisUrl('redis://10.1.2.3', { REDIS_PASSWORD: 'envpw' }).options, { host: '10.1.2.3', port: 6379, db: 0, password: 'envpw' });
  assert.deepEqual(parseRedisUrl('rediss://127.0.0.1:7000', {}).options.tls, {}, 'no SNI server name for an IP address');
  assert.throws(() => parseRedisUrl('http://u:secret@h', {}), (e: Error) => /not a Redis URL: http:\/\/u:\*\*\*@h/.test(e.message) && !e.message.includes('secret'));
  assert.throws(() => parseRedisUrl('redis://h/x', {}), /bad database number/);
  assert.equal(redactRedisUrl('redis://:pw@h:1'), 'redis://:***@h:1');
  assert.equal(redactUrlPasswords('run --queue redis://u:pw@h --store mongodb://a:b@m/db'), 'run --queue redis://u:***@h --store mongodb://a:***@m/db');
});

test('job ids derive from the cache key and the chunk; forced work adds the run id; no ":" (BullMQ forbids it)', () => {
  const key = 'ab'.repeat(32);
  assert.equal(jobId({ key, forced: false, runId: 'r1' }), key);
  assert.equal(jobId({ key, forced: false, runId: 'r2' }, { index: 2, count: 5 }), `${key}-c2-5`);
  assert.equal(jobId({ key, forced: true, runId: 'r1' }), `${key}-f-r1`);
  assert.ok(!jobId({ key, forced: true, runId: '20260101-000000-abcd' }, { index: 0, count: 1 }).includes(':'));
});

test('chunks cover every item exactly once for any count', () => {
  for (const n of [0, 1, 7, 100, 101]) {
    for (const count of [1, 2, 3, 8, 64]) {
      const seen: number[] = [];
      for (let index = 0; index < count; index++) {
        const [from, to] = chunkRange(n, { index, count });
        for (let i = from; i < to; i++) seen.push(i);
      }
      assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i), `n=${n} count=${count}`);
    }
  }
});

test('experiment folders travel relative to the project root; stage errors keep their name, message and hint', () => {
  assert.equal(portablePath('/repo/experiments', '/repo'), 'experiments');
  assert.equal(portablePath('/repo', '/repo'), '.');
  assert.equal(portablePath('/data/exp', '/repo'), '/data/exp');
  assert.equal(localPath('experiments', '/app'), '/app/experiments');
  assert.equal(localPath('/data/exp', '/app'), '/data/exp');
  const e = { name: 'StageInputError', message: 'labels file x.csv cannot be read', hint: 'the path is relative to the experiment file' };
  assert.deepEqual(decodeJobError(encodeJobError(e)), e);
  assert.deepEqual(decodeJobError('job stalled more than allowable limit'), { name: 'Error', message: 'job stalled more than allowable limit' });
});
