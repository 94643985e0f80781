import { Command } from 'commander';

// Being written (issue 3).
export function enableCommand(): Command {
  return new Command('enable').description('(not implemented yet)');
}
