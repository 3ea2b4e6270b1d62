/**
 * Building blocks of the alert settings validator: zod fields that name the expected JSON
 * type in their messages ("expected a number, got string"). Shared by the common settings in
 * config-schema.ts and by the settings each rule module (kinds/*) declares.
 */
import { z } from 'zod';

/** JSON type names for messages such as "expected a number, got string". */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

export const typeError =
  (expected: string) =>
  (issue: { input?: unknown }): string =>
    `expected ${expected}, got ${jsonType(issue.input)}`;

export const nonNegative = (max: number, unit: string) =>
  z
    .number({ error: typeError('a number') })
    .min(0, 'must be 0 or more')
    .max(max, `must be at most ${max}${unit}`);

export const positiveInt = (max: number) =>
  z
    .number({ error: typeError('a whole number') })
    .int('must be a whole number')
    .min(1, 'must be 1 or more')
    .max(max, `must be at most ${max}`);

/** How a numeric setting appears in GraphQL (`AlertConfig` / `AlertConfigInput`) and in the dashboard's editor. */
export interface NumericSettingInfo {
  /** The camelCase GraphQL name of the file's snake_case field. */
  graphqlName: string;
  graphqlType: 'Float' | 'Int';
  /** GraphQL field description, when there is one. */
  description?: string;
  /** The dashboard editor's field (it checks these bounds before saving; the server checks again). */
  editor: {
    label: string;
    unit: string;
    min: number;
    /** The lowest value is itself allowed. */
    minInclusive: boolean;
    max?: number;
    hint: string;
  };
}
