import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { Cron } from 'croner';

const read = (p: string) => readFile(new URL(`../../infra/${p}`, import.meta.url), 'utf8');

test('infra examples: CronJob never overlaps and runs `pipeline schedule --once`; the cron parses; MLflow serves artifacts', async () => {
  const job = parse(await read('kubernetes/cronjob.yaml'));
  assert.equal(job.kind, 'CronJob');
  assert.equal(job.spec.concurrencyPolicy, 'Forbid');
  const next = new Cron(job.spec.schedule, { paused: true, timezone: 'Etc/UTC' }).nextRun(new Date('2026-11-18T12:00:00Z'));
  assert.equal(next?.toISOString(), '2026-11-22T03:00:00.000Z', 'Sunday 03:00');
  assert.deepEqual(job.spec.jobTemplate.spec.template.spec.containers[0].command.slice(1, 4), ['pipeline', 'schedule', 'experiments/vinbig.yaml']);
  assert.ok(job.spec.jobTemplate.spec.template.spec.containers[0].command.includes('--once'));
  const compose = parse(await read('mlflow/compose.yaml'));
  assert.ok(compose.services.mlflow.command.includes('--serve-artifacts'));
  assert.deepEqual(compose.services.mlflow.ports, ['127.0.0.1:5000:5000']);
  const service = await read('systemd/pipeline-retrain.service');
  assert.match(service, /^Type=oneshot$/m);
  assert.match(service, /^ExecStart=.*pipeline schedule experiments\/vinbig\.yaml --once/m);
  assert.match(await read('systemd/pipeline-retrain.timer'), /^OnCalendar=Sun \*-\*-\* 03:00:00$/m);
});
