import { Command } from 'commander';

// Being written (issue 3).
export function cleanupCommand(): Command {
  return new Command('cleanup').description('(not implemented yet)');
}
