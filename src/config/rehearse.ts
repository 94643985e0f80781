/**
 * Options of `pulse-runbook rehearse` (src/rehearse): which Pulse to rehearse against and where the work and the
 * report go. One schema for the flags; the error names the flag.
 */
import { z } from 'zod';

export const RehearseOptionsSchema = z
  .object({
    pulseSource: z.string().trim().min(1, 'must be the path of a Pulse checkout').optional(),
    pulseBinary: z.string().trim().min(1, 'must be the path of a Pulse binary').optional(),
    emulatorProfile: z.enum(['feb', 'v6'], { error: () => 'must be feb or v6' }).optional(),
    tickSeconds: z.number({ error: 'must be a number of seconds' }).positive('must be positive').max(60, 'must be at most 60').optional(),
    workDir: z.string().trim().min(1).optional(),
    reportDir: z.string().trim().min(1).default('rehearsal-report'),
    json: z.boolean().default(false),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.pulseSource && v.pulseBinary)
      ctx.addIssue({ code: 'custom', path: ['pulseBinary'], message: 'give --pulse-source or --pulse-binary, not both' });
    const real = Boolean(v.pulseSource || v.pulseBinary);
    if (real && v.emulatorProfile)
      ctx.addIssue({ code: 'custom', path: ['emulatorProfile'], message: 'is for the emulator only; a real Pulse tells its own line' });
    if (real && v.tickSeconds !== undefined)
      ctx.addIssue({ code: 'custom', path: ['tickSeconds'], message: 'is for the emulator only; a real Pulse polls every 60 s' });
  });

export type RehearseOptions = z.infer<typeof RehearseOptionsSchema>;
