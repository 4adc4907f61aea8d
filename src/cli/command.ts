/** One CLI sub-command. `run` returns the process exit code (0 ok, 1 stage failed, 2 bad input, 130 interrupted). */
export interface Command {
  name: string;
  /** Full `--help` text. */
  help: string;
  run(argv: string[]): Promise<number>;
}

/**
 * A command as the command table lists it: name and one-line summary, and its module loaded only
 * when the command runs, so that `pipeline --help` and every command load only what they use.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const ExitCode = { ok: 0, failed: 1, badInput: 2, interrupted: 130 } as const;
