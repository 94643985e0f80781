/**
 * Custom search attributes, registered on the dev server at start (and in the compose setup), so runs can be
 * found in the Web UI by procedure, phase, severity, owner and status.
 */
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
  type SearchAttributeUpdatePair,
  type TypedSearchAttributes,
} from '@temporalio/common';

export const SEARCH_ATTRIBUTES = [
  { name: 'RunbookProcedure', type: 'Keyword' },
  { name: 'RunbookStatus', type: 'Keyword' },
  { name: 'PulseTarget', type: 'Keyword' },
  { name: 'CanaryPhase', type: 'Keyword' },
  { name: 'IncidentSeverity', type: 'Keyword' },
  { name: 'IncidentOwner', type: 'Keyword' },
] as const;

export type SearchAttributeName = (typeof SEARCH_ATTRIBUTES)[number]['name'];

/**
 * The typed keys workflows upsert with (`upsertSearchAttributes([{ key, value }])`), one per registered attribute,
 * so a name that is not registered does not compile. Every one is a Keyword, as registered above.
 */
export const SEARCH_ATTRIBUTE_KEYS = Object.fromEntries(
  SEARCH_ATTRIBUTES.map((a) => [a.name, defineSearchAttributeKey(a.name, SearchAttributeType.KEYWORD)]),
) as { [N in SearchAttributeName]: ReturnType<typeof defineSearchAttributeKey<typeof SearchAttributeType.KEYWORD>> };

/** The typed update pairs for a set of keyword attributes, in the order given (the order of the upsert's fields). */
export function keywordAttributes(values: Partial<Record<SearchAttributeName, string>>): SearchAttributeUpdatePair[] {
  return Object.entries(values).map(([name, value]) => ({
    key: SEARCH_ATTRIBUTE_KEYS[name as SearchAttributeName],
    value: value as string,
  }));
}

/** The same pairs for a start (`typedSearchAttributes`), where a value cannot be null. */
export function keywordStartAttributes(values: Partial<Record<SearchAttributeName, string>>): SearchAttributePair[] {
  return keywordAttributes(values) as SearchAttributePair[];
}

/** The registered keyword attributes a run carries (from `describe().typedSearchAttributes`), by name. */
export function keywordValues(typed: TypedSearchAttributes): Partial<Record<SearchAttributeName, string>> {
  const values: Partial<Record<SearchAttributeName, string>> = {};
  for (const { name } of SEARCH_ATTRIBUTES) {
    const value = typed.get(SEARCH_ATTRIBUTE_KEYS[name]);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=${a.type}`]);
}
