import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { defineStage, StageInputError } from '../engine/stage.ts';
import { exportArtifact, safeName } from '../export/export-artifact.ts';
import { listFiles } from '../util/glob.ts';

const params = z
  .object({
    run: z.string().min(1).describe('Shell command. $PIPELINE_INPUTS holds one folder per input (exported like pipeline export), $PIPELINE_OUTPUT is the folder whose files become the artifact.'),
    deps: z.array(z.string()).default([]).describe('Files or folders the command reads (scripts, data), relative to the experiment file; their content joins the cache key.'),
    metrics: z.string().default('metrics.json').describe('A JSON file in $PIPELINE_OUTPUT of {name: number} or {name: [per-step numbers]}, forwarded as metrics.'),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables.'),
    kind: z.enum(['files', 'model', 'report', 'predictions']).default('files').describe('Kind of the output artifact.'),
  })
  .strict();

/** Wraps any program (e.g. a PyTorch script on a GPU box) as a cached stage. */
export const commandStage = defineStage({
  name: 'command',
  version: 1,
  description: 'Run a shell command on materialised inputs; its output folder becomes the artifact.',
  params,
  inputs: { min: 0 },
  externalPaths: (p) => p.deps.map((path, i) => ({ param: `deps.${i}`, path })),
  async run(ctx, inputs, p) {
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
  },
});
