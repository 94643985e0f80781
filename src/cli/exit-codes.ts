/**
 * The exit codes of `pulse-runbook`, one meaning each, so a script can tell "fix your input" from "the procedure
 * failed" from "nobody knows yet how it ended". README "Exit codes" lists them for people.
 */
export const EXIT = {
  /** The command did what it was asked; a procedure completed. */
  ok: 0,
  /** A procedure (or an update, a refused sign-off) failed: the run ended and says why. */
  failed: 1,
  /** Bad input or setup (a flag, a file, a key, an unreachable Temporal at start): nothing was started or changed. */
  badInput: 2,
  /** A run was started (or attached to) but the CLI lost contact with Temporal and gave up: the run goes on. */
  lostContact: 3,
  /** Refused: another procedure is running on the same Pulse; nothing was started (the message names that run). */
  busy: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error whose exit code is not "bad input": main() sets `exitCode` and prints the message as it is. */
export class CliExit extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliExit';
  }
}
