import { writeFile } from 'node:fs/promises';
import type { Command } from '../command.ts';
import { ExitCode } from '../command.ts';
import { parse } from '../args.ts';
import { experimentJsonSchema } from '../../experiment/json-schema.ts';

const usage = 'pipeline schema [--out FILE]';

export const schemaCommand: Command = {
  name: 'schema',
  help: `usage: ${usage}

Prints (or writes) the JSON Schema generated from every stage's parameter schema. The repository
ships it as schema/experiment.schema.json; point yaml-language-server at it with a first line
  # yaml-language-server: $schema=../schema/experiment.schema.json`,
  async run(argv) {
    const { values, help } = parse(argv, { out: { type: 'string', short: 'o' } }, { min: 0, max: 0, usage });
    if (help) return console.log(this.help), ExitCode.ok;
    const text = JSON.stringify(experimentJsonSchema(), null, 2) + '\n';
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
    return ExitCode.ok;
  },
};
