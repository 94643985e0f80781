import { Command } from 'commander';

// Being written (issue 3).
export function disableCommand(): Command {
  return new Command('disable').description('(not implemented yet)');
}
