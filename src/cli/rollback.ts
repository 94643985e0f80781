import { Command } from 'commander';

// Being written (issue 3).
export function rollbackCommand(): Command {
  return new Command('rollback').description('(not implemented yet)');
}
