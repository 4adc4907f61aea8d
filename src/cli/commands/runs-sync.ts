import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, UsageError } from '../args.ts';
import { openStore } from '../../store/open.ts';
import { mlflowClient, mlflowUri } from '../../tracking/connection.ts';
import { bufferedCounts, replayBuffers } from '../../tracking/mlflow/buffer.ts';
import { TRACKING_HELP, trackingOptions } from './tracking-options.ts';

const usage = 'pipeline runs sync [--tracking-uri URL] [--store DIR]';

export const runsSyncCommand: Command = {
  name: 'runs sync',
  help: `usage: ${usage}

When the MLflow server cannot be reached, runs go on and their tracking data is buffered in the store
(collection tracking-buffer). The next run replays it automatically; this command does it now, and
prints what was sent. Exit code 1 if something is still buffered (the server is still down).
${TRACKING_HELP}`,
  async run(argv) {
    const { values, help } = parse(argv, trackingOptions, { min: 0, max: 0, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const store = await openStore(values.store);
    try {
      const uri = mlflowUri(values['tracking-uri']);
      const counts = await bufferedCounts(store);
      if (!uri) {
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        if (total === 0) return console.log(`nothing buffered in ${store.location}`), ExitCode.ok;
        throw new UsageError(`${total} buffered operations for ${Object.keys(counts).join(', ')}; set MLFLOW_TRACKING_URI or pass --tracking-uri to send them`);
      }
      const client = mlflowClient(uri);
      const result = await replayBuffers({ store, client, log: (level, message) => console.error(`${level}: ${message}`) });
      console.log(`sent ${result.replayed} buffered operations from ${result.sessions} run(s) to ${client.baseUrl}${result.dropped ? `; ${result.dropped} rejected by the server (see warnings)` : ''}`);
      if (result.otherServers.length) console.log(`left alone: buffers for ${[...new Set(result.otherServers)].join(', ')}`);
      const stillHere = result.remaining - Object.entries(counts).filter(([u]) => u !== client.baseUrl).reduce((a, [, n]) => a + n, 0);
      if (stillHere > 0) {
        console.log(`${stillHere} operations still buffered: ${client.baseUrl} is not reachable; try again later`);
        return ExitCode.failed;
      }
      return ExitCode.ok;
    } finally {
      await store.close();
    }
  },
};
