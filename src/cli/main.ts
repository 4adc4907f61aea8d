import { commands } from './commands/index.ts';
import { ExitCode } from './command.ts';
import { UsageError } from './args.ts';
import { DiagnosticError, didYouMean, formatDiagnostic } from '../engine/diagnostics.ts';
import { errorText } from '../util/error-text.ts';

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return `pipeline: medical-imaging datasets and deep-learning experiments from declarative YAML

usage: pipeline COMMAND [options]   (pipeline COMMAND --help for details)

commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

exit codes: 0 ok, 1 a stage failed, 2 bad input or config, 130 interrupted`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name ? ExitCode.ok : ExitCode.badInput;
  }
  if (name === '--version') {
    console.log('pipeline 0.1.0');
    return ExitCode.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const guess = didYouMean(name, commands.map((c) => c.name));
    console.error(`error: unknown command ${JSON.stringify(name)}${guess ? `; did you mean "${guess}"?` : ''}\n\n${mainHelp()}`);
    return ExitCode.badInput;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof DiagnosticError) {
      console.error(err.diagnostics.map(formatDiagnostic).join('\n'));
      return ExitCode.badInput;
    }
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}`);
      return ExitCode.badInput;
    }
    console.error(`error: ${err instanceof Error && process.env.PIPELINE_DEBUG ? err.stack : errorText(err)}`);
    return ExitCode.failed;
  }
}
