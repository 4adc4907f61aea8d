import type { Command } from '../command.ts';
import { runCommand } from './run.ts';
import { planCommand } from './plan.ts';
import { dagCommand } from './dag.ts';
import { runsCommand } from './runs.ts';
import { gcCommand } from './gc.ts';
import { exportCommand } from './export.ts';
import { schemaCommand } from './schema.ts';

/** Every top-level command, in the order `pipeline --help` lists them. */
export const commands: Command[] = [runCommand, planCommand, dagCommand, runsCommand, exportCommand, gcCommand, schemaCommand];
