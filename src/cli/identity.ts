/**
 * `pulse-runbook identity whoami|issue-token|keygen` (docs/identity.md):
 *
 *   whoami                 who the CLI acts as, and how that was determined (token, OS user or claimed)
 *   issue-token --sub NAME --ttl 8h [--key-file FILE]   an admin signs a token (prints only the token)
 *   keygen --out FILE [--algorithm EdDSA|HS256]         a new key: EdDSA writes FILE (private) and FILE.pub
 *
 * The token is printed on stdout and nowhere else (for `export PULSE_RUNBOOKS_IDENTITY_TOKEN=$(...)` or --out);
 * everything else goes to stderr. A command like the others, in src/cli: src/identity below it knows nothing of
 * the CLI (no folder cycle).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command, Option } from 'commander';
import { addGlobalFlags, loadSettings, type GlobalFlags } from './context.js';
import { generateIdentityKey, readIdentityKey, type IdentityAlgorithm } from '../identity/key.js';
import { IDENTITY_ENV, clientIdentity, resolveIdentity } from '../identity/resolve.js';
import { issueIdentityToken, parseTtl } from '../identity/token.js';

function whoamiCommand(): Command {
  return addGlobalFlags(new Command('whoami').description('Show who the CLI acts as, and how that was determined'))
    .option('--actor <name>', 'check a claimed name against the policy, as an incident or canary command would')
    .option('--json', 'print JSON')
    .action(async (flags: GlobalFlags & { actor?: string; json?: boolean }) => {
      const settings = loadSettings(flags);
      const identity = await resolveIdentity(settings.identity, { claimedActor: flags.actor });
      for (const w of identity.warnings) process.stderr.write(`warning: ${w}\n`);
      const temporalIdentity = clientIdentity(identity, hostname());
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify(
            {
              actor: identity.actor,
              actorSource: identity.source,
              osUser: identity.osUser,
              how: identity.how,
              temporalIdentity,
              ...(identity.token && { token: identity.token }),
              tokenPolicy: settings.identity.keyFile
                ? { keyFile: settings.identity.keyFile, issuer: settings.identity.issuer, audience: settings.identity.audience }
                : null,
            },
            null,
            2,
          )}\n`,
        );
        return;
      }
      const lines = [
        `You act as ${identity.actor} (${identity.source}): ${identity.how}.`,
        `Temporal identity: ${temporalIdentity}`,
        settings.identity.keyFile
          ? `Token policy: on (${IDENTITY_ENV.keyFile}=${settings.identity.keyFile}); --actor cannot override the token.`
          : `Token policy: off (set ${IDENTITY_ENV.keyFile} to require signed tokens); --actor is recorded as claimed.`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

function issueTokenCommand(): Command {
  return new Command('issue-token')
    .description('Sign an identity token for a person (admins: needs the private key or the HS256 secret)')
    .option('--sub <name>', 'who the token names (the actor recorded for them)')
    .option('--ttl <duration>', 'how long it is valid: 30m, 8h, 7d (at most 30d)', '8h')
    .option('--key-file <path>', `the signing key (default ${IDENTITY_ENV.keyFile})`)
    .option('--issuer <iss>', `the iss claim (default ${IDENTITY_ENV.issuer})`)
    .option('--audience <aud>', `the aud claim (default ${IDENTITY_ENV.audience})`)
    .option('--out <file>', 'write the token to this new file (mode 0600) instead of stdout')
    .action(async (flags: { sub?: string; ttl: string; keyFile?: string; issuer?: string; audience?: string; out?: string }) => {
      if (!flags.sub) throw new Error('identity issue-token --sub: required; name the person, e.g. --sub olga');
      const keyFile = flags.keyFile ?? process.env[IDENTITY_ENV.keyFile];
      if (!keyFile)
        throw new Error(
          `identity issue-token --key-file / ${IDENTITY_ENV.keyFile}: required; give the private key (or HS256 secret) tokens are signed with`,
        );
      const key = readIdentityKey(keyFile);
      for (const w of key.warnings) process.stderr.write(`warning: ${w}\n`);
      const issued = await issueIdentityToken(key, {
        subject: flags.sub,
        ttlSeconds: parseTtl(flags.ttl),
        issuer: flags.issuer ?? (process.env[IDENTITY_ENV.issuer] || undefined),
        audience: flags.audience ?? (process.env[IDENTITY_ENV.audience] || undefined),
      });
      if (flags.out) {
        let fd: number;
        try {
          fd = openSync(flags.out, 'wx', 0o600);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          throw new Error(
            `identity issue-token --out ${flags.out}: ${code === 'EEXIST' ? 'already exists; it is never overwritten' : `cannot be created (${code ?? (err as Error).message})`}`,
            { cause: err },
          );
        }
        try {
          writeSync(fd, `${issued.token}\n`);
        } finally {
          closeSync(fd);
        }
        process.stderr.write(
          `Wrote a token for ${flags.sub} to ${flags.out} (mode 0600); it expires at ${issued.expiresAt}. Use it with --identity-token-file ${flags.out}.\n`,
        );
      } else {
        process.stdout.write(`${issued.token}\n`);
        process.stderr.write(
          `Token for ${flags.sub}, ${key.algorithm}, expires at ${issued.expiresAt}. Give it as ${IDENTITY_ENV.token} or in a file with --identity-token-file.\n`,
        );
      }
    });
}

function keygenCommand(): Command {
  return new Command('keygen')
    .description('Create an identity key: EdDSA (default) writes the private key and <out>.pub for CLI users; HS256 a shared secret')
    .option('--out <file>', 'where to write the signing key (never overwritten)')
    .addOption(
      new Option('--algorithm <alg>', 'EdDSA: users get only the public key and cannot issue tokens; HS256: one secret for both')
        .choices(['EdDSA', 'HS256'])
        .default('EdDSA'),
    )
    .action((flags: { out?: string; algorithm: IdentityAlgorithm }) => {
      if (!flags.out) throw new Error('identity keygen --out: required; e.g. --out /etc/pulse-runbooks/identity.key');
      const made = generateIdentityKey(flags.out, flags.algorithm);
      process.stdout.write(
        made.publicPath
          ? `Created ${made.path} (Ed25519 private key, mode 0600: admins only, for issue-token) and ${made.publicPath} (public key: set ${IDENTITY_ENV.keyFile}=${made.publicPath} for CLI users).\n`
          : `Created ${made.path} (HS256 secret, mode 0600). Whoever can read it can issue tokens: prefer EdDSA unless the CLI runs on hosts users do not control.\n`,
      );
    });
}

export function identityCommand(): Command {
  return new Command('identity')
    .description('Who acts: the actor recorded with every change, from a signed token or the OS user (docs/identity.md)')
    .addCommand(whoamiCommand())
    .addCommand(issueTokenCommand())
    .addCommand(keygenCommand());
}
