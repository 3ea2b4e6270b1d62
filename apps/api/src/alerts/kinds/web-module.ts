/**
 * The dashboard's view of the rule registry, as a generated TypeScript module: kind ids,
 * titles and value units for the alert list, and the numeric fields of the settings editor.
 * `node dist/alerts/kinds/web-module.js FILE` writes it (stdout when no file); a test checks
 * that the dashboard's copy is current, as for the printed SDL.
 */
import { writeFileSync } from 'node:fs';
import { ALERT_RULE_LIST } from './index.js';
import { ALERT_CONFIG_GRAPHQL_NAMES, COMMON_NUMERIC_EDITOR } from '../config-schema.js';
import { METRICS, RULE_METRICS } from './metrics.js';
import { CHANNEL_TYPES, SCOPE_FIELDS } from '../rules/model.js';

export function renderWebModule(): string {
  const kinds = ALERT_RULE_LIST.map((r) => ({ id: r.kind, label: r.title, unit: r.valueUnit }));
  const ruleFields = ALERT_RULE_LIST.flatMap((r) =>
    Object.entries(r.settingsInfo).map(([seed, info]) => {
      const { label, unit, min, minInclusive, max, hint } = info.editor;
      return { key: info.graphqlName, label, seed, unit, min, minInclusive, ...(max === undefined ? {} : { max }), integer: info.graphqlType === 'Int', hint };
    }),
  );
  const commonFields = Object.entries(COMMON_NUMERIC_EDITOR).map(([seed, e]) => {
    const { label, unit, min, minInclusive, max, integer, hint } = e;
    const key = ALERT_CONFIG_GRAPHQL_NAMES[seed as keyof typeof ALERT_CONFIG_GRAPHQL_NAMES];
    return { key, label, seed, unit, min, minInclusive, ...(max === undefined ? {} : { max }), integer, hint };
  });
  return [
    '// Generated from the alert rule registry (apps/api/src/alerts/kinds) by apps/api/dist/alerts/kinds/web-module.js; do not edit.',
    '',
    '/** Every alert kind: its id, its title and the unit of its value and threshold. */',
    `export const ALERT_KINDS = ${JSON.stringify(kinds, null, 2)} as const;`,
    '',
    "/** The numeric fields of the settings editor: the rules' thresholds, then the shared settings. */",
    `export const ALERT_NUMBER_FIELDS = ${JSON.stringify([...ruleFields, ...commonFields], null, 2)} as const;`,
    '',
    "/** The metrics of alert rules (the rules editor's choices): id, title, unit, whether a window and a minimum sample apply. */",
    `export const ALERT_METRICS = ${JSON.stringify(RULE_METRICS.map((m) => ({ id: m, label: METRICS[m].title, unit: METRICS[m].unit, windowed: METRICS[m].windowed, sampled: METRICS[m].sampled, description: METRICS[m].description })), null, 2)} as const;`,
    '',
    '/** The scope fields of a rule or a silence, and the channel types of a rule. */',
    `export const ALERT_SCOPE_FIELDS = ${JSON.stringify(SCOPE_FIELDS)} as const;`,
    `export const ALERT_CHANNEL_TYPES = ${JSON.stringify(CHANNEL_TYPES)} as const;`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (out) writeFileSync(out, renderWebModule());
  else process.stdout.write(renderWebModule());
}
