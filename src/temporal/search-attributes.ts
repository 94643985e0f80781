/**
 * Custom search attributes, registered on the dev server at start (and in the compose setup), so runs can be
 * found in the Web UI by procedure, phase, severity, owner and status.
 */
export const SEARCH_ATTRIBUTES = [
  { name: 'RunbookProcedure', type: 'Keyword' },
  { name: 'RunbookStatus', type: 'Keyword' },
  { name: 'PulseTarget', type: 'Keyword' },
  { name: 'CanaryPhase', type: 'Keyword' },
  { name: 'IncidentSeverity', type: 'Keyword' },
  { name: 'IncidentOwner', type: 'Keyword' },
] as const;

export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]);
}
