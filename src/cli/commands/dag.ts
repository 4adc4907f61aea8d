import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse, UsageError } from '../args.ts';
import type { Experiment } from '../../experiment/load.ts';
import { loadWithOverrides, OVERRIDE_HELP, OVERRIDE_USAGE, overrideOptions } from '../override-options.ts';

const usage = `pipeline dag FILE ${OVERRIDE_USAGE} [--format text|mermaid|dot]`;

export function renderDag(experiment: Experiment, format: string): string {
  const edges = experiment.instances.flatMap((i) => i.inputs.map((input) => ({ from: input.instance, to: i.id, name: input.name === input.stage ? '' : input.name })));
  const ids = experiment.instances.map((i) => i.id);
  const nodeId = new Map(ids.map((id, n) => [id, `n${n}`]));
  const label = (id: string) => `${id} (${experiment.instances.find((i) => i.id === id)!.uses})`;
  if (format === 'mermaid') {
    const lines = ['flowchart TD', ...ids.map((id) => `  ${nodeId.get(id)}["${label(id).replace(/"/g, '#quot;')}"]`)];
    for (const e of edges) lines.push(`  ${nodeId.get(e.from)} -->${e.name ? `|${e.name}|` : ''} ${nodeId.get(e.to)}`);
    return lines.join('\n');
  }
  if (format === 'dot') {
    const q = (s: string) => JSON.stringify(s);
    const lines = [`digraph ${q(experiment.name)} {`, '  rankdir=TB;', '  node [shape=box];', ...ids.map((id) => `  ${q(id)} [label=${q(label(id))}];`)];
    for (const e of edges) lines.push(`  ${q(e.from)} -> ${q(e.to)}${e.name ? ` [label=${q(e.name)}]` : ''};`);
    lines.push('}');
    return lines.join('\n');
  }
  if (format !== 'text') throw new UsageError(`--format must be text, mermaid or dot, got ${JSON.stringify(format)}`);
  return experiment.instances
    .map((i) => {
      const from = i.inputs.map((x) => (x.name === x.stage ? x.instance : `${x.name}=${x.instance}`));
      return `${label(i.id)}${from.length ? `  <- ${from.join(', ')}` : ''}`;
    })
    .join('\n');
}

export const dagCommand: Command = {
  name: 'dag',
  help: `usage: ${usage}

Prints every stage instance (foreach expanded) with its inputs.
${OVERRIDE_HELP}
  --format text     one line per instance with its inputs (default)
  --format mermaid  a Mermaid flowchart (paste into Markdown)
  --format dot      Graphviz (pipe to: dot -Tsvg > dag.svg)`,
  async run(argv) {
    const { values, positionals, help } = parse(argv, { ...overrideOptions, format: { type: 'string', short: 'f' } }, { min: 1, max: 1, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const experiment = await loadWithOverrides(positionals[0], values.set, { skipExternalChecks: true });
    console.log(renderDag(experiment, values.format ?? 'text'));
    return ExitCode.ok;
  },
};
