/** One CLI sub-command. `run` returns the process exit code (0 ok, 1 stage failed, 2 bad input, 130 interrupted). */
export interface Command {
  name: string;
  summary: string;
  /** Full `--help` text. */
  help: string;
  run(argv: string[]): Promise<number>;
}

export const ExitCode = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;
