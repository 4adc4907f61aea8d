import type { Command } from '../command.ts';
import { runCommand } from './run.ts';
import { planCommand } from './plan.ts';
import { dagCommand } from './dag.ts';
import { runsCommand, runsSubcommands } from './runs.ts';
import { runsCompareCommand } from './runs-compare.ts';
import { runsSyncCommand } from './runs-sync.ts';
import { gcCommand } from './gc.ts';
import { exportCommand } from './export.ts';
import { schemaCommand } from './schema.ts';
import { uiCommand } from './ui.ts';
import { scheduleCommand } from './schedule.ts';
import { demoDataCommand } from './demo-data.ts';
import { modelsCommand } from './models.ts';
import { workerCommand } from './worker.ts';
import { statusCommand } from './status.ts';
import { checkoutCommand } from './checkout.ts';
import { pullCommand, pushCommand } from './push-pull.ts';

runsSubcommands.set('compare', runsCompareCommand);
runsSubcommands.set('sync', runsSyncCommand);

/** Every top-level command, in the order `pipeline --help` lists them. */
export const commands: Command[] = [runCommand, planCommand, statusCommand, checkoutCommand, pushCommand, pullCommand, dagCommand, runsCommand, modelsCommand, exportCommand, uiCommand, scheduleCommand, workerCommand, demoDataCommand, gcCommand, schemaCommand];
