/** Bad settings or input, explained in the message (which never holds a secret value): exit code 2 at the CLI. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
