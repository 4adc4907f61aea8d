import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseRedisUrl } from '../../src/queue/redis-url.ts';
import { PREFIX, queueName } from '../../src/queue/protocol.ts';
import { RESOURCE_RE } from '../../src/experiment/schema.ts';
import { redisMissing, RedisServer } from '../support/redis-server.ts';

const read = (p: string) => readFile(new URL(`../../infra/${p}`, import.meta.url), 'utf8');

async function docs(file: string): Promise<any[]> {
  const parsed = parseAllDocuments(await read(file), { merge: true });
  for (const d of parsed) assert.deepEqual(d.errors, [], `${file}: YAML errors`);
  return parsed.map((d) => d.toJS());
}

function flag(command: string[], name: string): string | undefined {
  const i = command.indexOf(name);
  return i >= 0 ? command[i + 1] : undefined;
}

test('Kubernetes: CPU and GPU worker Deployments, Redis, a coordinator Job and KEDA ScaledObjects that fit together', async () => {
  const all = (await Promise.all(['redis.yaml', 'worker-cpu.yaml', 'worker-gpu.yaml', 'keda-scaledobject.yaml', 'coordinator-job.yaml'].map((f) => docs(`kubernetes/${f}`)))).flat();
  for (const d of all) {
    assert.ok(d.apiVersion && d.kind && d.metadata?.name, `every document has apiVersion, kind, metadata.name: ${JSON.stringify(d).slice(0, 80)}`);
  }
  const byKind = (kind: string) => all.filter((d) => d.kind === kind);
  const deployments = new Map(byKind('Deployment').map((d) => [d.metadata.name, d]));
  assert.deepEqual([...deployments.keys()].sort(), ['pipeline-worker-cpu', 'pipeline-worker-gpu']);
  const resourcesOf = new Map<string, string>();
  for (const d of deployments.values()) {
    const labels = d.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) assert.equal(labels[k], v, `${d.metadata.name}: selector matches the pod labels`);
    assert.ok(d.spec.template.spec.nodeSelector, `${d.metadata.name} has a node selector`);
    assert.ok(d.spec.template.spec.terminationGracePeriodSeconds > 25, 'room for the 25 s grace of a stopping worker');
    const [c] = d.spec.template.spec.containers;
    assert.deepEqual(c.command.slice(0, 3), ['npx', 'pipeline', 'worker']);
    const resources = flag(c.command, '--resources')!;
    assert.ok(resources.split(',').every((r) => RESOURCE_RE.test(r)));
    resourcesOf.set(d.metadata.name, resources);
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    assert.doesNotThrow(() => parseRedisUrl(env.PIPELINE_QUEUE.value));
    assert.ok(!/:[^@/]*@/.test(env.PIPELINE_QUEUE.value), 'no password in the manifest: it comes from a Secret');
    assert.equal(env.REDIS_PASSWORD.valueFrom.secretKeyRef.name, 'pipeline-redis');
    assert.ok(env.PIPELINE_STORE.valueFrom.secretKeyRef);
  }
  const gpu = deployments.get('pipeline-worker-gpu')!.spec.template.spec;
  assert.equal(resourcesOf.get('pipeline-worker-gpu'), 'gpu');
  assert.equal(gpu.containers[0].resources.limits['nvidia.com/gpu'], 1);
  assert.equal(gpu.nodeSelector['nvidia.com/gpu.present'], 'true');
  assert.equal(resourcesOf.get('pipeline-worker-cpu'), 'cpu');

  const redis = byKind('StatefulSet')[0];
  assert.ok(redis.spec.template.spec.containers[0].args.join(' ').includes('--maxmemory-policy noeviction'), 'BullMQ needs noeviction');
  assert.equal(byKind('Service')[0].metadata.name, 'pipeline-redis');

  const scaled = byKind('ScaledObject');
  assert.equal(scaled.length, 2);
  for (const s of scaled) {
    const target = deployments.get(s.spec.scaleTargetRef.name);
    assert.ok(target, `ScaledObject ${s.metadata.name} targets a Deployment of these manifests`);
    const [trigger] = s.spec.triggers;
    assert.equal(trigger.type, 'redis');
    assert.equal(trigger.metadata.listName, `${PREFIX}:${queueName(resourcesOf.get(target.metadata.name)!)}:wait`, 'scales on the wait list of the queue its workers take');
    assert.equal(trigger.authenticationRef.name, byKind('TriggerAuthentication')[0].metadata.name);
  }
  const [job] = byKind('Job');
  assert.deepEqual(job.spec.template.spec.containers[0].command.slice(0, 3), ['npx', 'pipeline', 'run']);
});

test('KEDA\'s list is where BullMQ keeps waiting jobs: LLEN counts them on a real Redis', { skip: redisMissing, timeout: 60_000 }, async () => {
  const scaled = (await docs('kubernetes/keda-scaledobject.yaml')).find((d) => d.metadata.name === 'pipeline-worker-cpu');
  const server = await new RedisServer().start();
  const connection = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null });
  const queue = new Queue(queueName('cpu'), { connection, prefix: PREFIX });
  try {
    for (const id of ['j1', 'j2', 'j3']) await queue.add('stage', {}, { jobId: id });
    assert.equal(await connection.type(scaled.spec.triggers[0].metadata.listName), 'list');
    assert.equal(await connection.llen(scaled.spec.triggers[0].metadata.listName), 3);
  } finally {
    await queue.close();
    connection.disconnect();
    await server.stop();
  }
});

test('compose: Redis, MongoDB, MLflow, two workers and a coordinator, on 127.0.0.1 only', async () => {
  const [compose] = await docs('compose/compose.yaml');
  assert.deepEqual(Object.keys(compose.services).sort(), ['coordinator', 'mlflow', 'mongodb', 'redis', 'worker']);
  for (const s of Object.values<any>(compose.services)) for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:/);
  assert.equal(compose.services.worker.deploy.replicas, 2);
  assert.equal(compose.services.worker.command[0], 'worker');
  assert.deepEqual(compose.services.coordinator.command.slice(0, 2), ['run', 'experiments/demo.yaml']);
  for (const name of ['worker', 'coordinator']) {
    const env = compose.services[name].environment;
    assert.doesNotThrow(() => parseRedisUrl(env.PIPELINE_QUEUE));
    assert.match(env.PIPELINE_STORE, /^mongodb:\/\/mongodb:27017\//);
  }
  assert.ok(compose.services.redis.command.includes('noeviction'));
  assert.match(await read('docker/Dockerfile'), /^ENTRYPOINT \["npx", "pipeline"\]$/m);
});
