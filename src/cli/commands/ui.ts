import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, positiveInt } from '../args.ts';
import { DiagnosticError } from '../../engine/diagnostics.ts';
import { startDashboard } from '../../ui/server.ts';
import { openTracking, TRACKING_HELP, trackingOptions } from './tracking-options.ts';

const usage = 'pipeline ui [--port 4173] [--host 127.0.0.1]';

export const uiCommand: Command = {
  name: 'ui',
  help: `usage: ${usage}

Serves the tracking dashboard until Ctrl-C. It reads the local tracker in the store, or the MLflow
server when MLFLOW_TRACKING_URI (or --tracking-uri) is set. It binds 127.0.0.1 by default: it has no
login, so only pass --host 0.0.0.0 on a trusted network.

  --port N              port (default 4173; 0 picks a free one)
  --host ADDR           address to bind (default 127.0.0.1)
${TRACKING_HELP}`,
  async run(argv) {
    const { values, help } = parse(argv, { ...trackingOptions, port: { type: 'string' }, host: { type: 'string' } }, { min: 0, max: 0, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const port = values.port === '0' ? 0 : (positiveInt(values.port, '--port') ?? 4173);
    const host = values.host ?? '127.0.0.1';
    const { store, reader } = await openTracking(values);
    let dashboard;
    try {
      dashboard = await startDashboard({ reader, host, port, trackerLabel: reader.kind === 'local' ? `local (${store.location})` : 'MLflow' });
    } catch (err) {
      await store.close();
      throw listenError(err, host, port);
    }
    console.log(`dashboard on ${dashboard.url}  (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await dashboard.close();
    await store.close();
    return ExitCode.ok;
  },
};

/** A port that cannot be bound, as a located problem with what to do about it. */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new DiagnosticError([{ message: `port ${port} on ${host} is already in use`, hint: `another \`pipeline ui\` may be serving it already (open http://${host}:${port}); or pick another port: --port ${port + 1}, or --port 0 for any free one` }]);
  }
  if (code === 'EACCES') return new DiagnosticError([{ message: `not allowed to listen on port ${port} of ${host}`, hint: 'ports below 1024 need privileges: use --port 4173 (the default) or --port 0' }]);
  if (code === 'EADDRNOTAVAIL') return new DiagnosticError([{ message: `${host} is not an address of this machine`, hint: 'use --host 127.0.0.1 (the default), or an address this machine has' }]);
  return err;
}
