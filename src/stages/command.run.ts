import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { StageInputError, type StageContext, type StageInput } from '../engine/stage.ts';
import { exportArtifact, safeName } from '../export/export-artifact.ts';
import { listFiles } from '../util/glob.ts';
import type { ArtifactDraft } from '../engine/artifact.ts';
import type { CommandParams } from './command.ts';

/** The implementation of the command stage, imported on its first run (src/stages/command.ts defines it). */
export async function run(ctx: StageContext, inputs: StageInput[], p: CommandParams): Promise<ArtifactDraft> {
  const scratch = await ctx.scratchDir();
  const inputDir = join(scratch, 'inputs');
  const outputDir = join(scratch, 'output');
  await mkdir(outputDir, { recursive: true });
  for (const input of inputs) {
    const sub = inputs.filter((i) => i.name === input.name).length > 1 ? join(input.name, safeName(input.instance)) : input.name;
    await exportArtifact(ctx.store, input.artifact, join(inputDir, sub));
  }
  const child = spawn('sh', ['-c', p.run], {
    cwd: ctx.baseDir,
    env: { ...process.env, ...p.env, PIPELINE_INPUTS: inputDir, PIPELINE_OUTPUT: outputDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => ctx.log.info(line));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    ctx.log.warn(line);
  });
  const onAbort = () => child.kill('SIGTERM');
  ctx.signal.addEventListener('abort', onAbort);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(signal ? null : c));
  }).finally(() => ctx.signal.removeEventListener('abort', onAbort));
  if (code !== 0) {
    throw new StageInputError(`command exited with ${code === null ? 'a signal' : `code ${code}`}: ${p.run}${tail.length ? `\n${tail.slice(-5).join('\n')}` : ''}`, 'run the command by hand with PIPELINE_INPUTS/PIPELINE_OUTPUT set to see why');
  }
  const files: Record<string, Buffer> = {};
  for (const rel of await listFiles(outputDir)) files[rel] = await readFile(join(outputDir, rel));
  const metrics: Record<string, number> = {};
  if (files[p.metrics]) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(files[p.metrics].toString('utf8'));
    } catch (err: any) {
      throw new StageInputError(`${p.metrics} written by the command is not JSON: ${err.message}`);
    }
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value === 'number') {
        metrics[name] = value;
        ctx.metric(name, value);
      } else if (Array.isArray(value)) value.forEach((v, step) => typeof v === 'number' && ctx.metric(name, v, step));
    }
  }
  return { kind: p.kind, files, meta: { command: p.run, metrics } };
}
