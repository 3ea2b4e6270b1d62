/**
 * Model-name normalisation for price look-ups. Senders spell one model many ways
 * (`openai/gpt-4o`, `GPT-4o`, `gpt-4o-2024-08-06`); the normalised name is lower case, without
 * a provider prefix (everything up to the last `/`) and without a trailing release date
 * (`-2024-08-06`, `-20240806`, `@20240806`).
 */
const DATE_SUFFIX = /[-@](?:20\d{2}-\d{2}-\d{2}|20\d{6})$/;

export function normalizeModelName(name: string): string {
  let n = name.trim().toLowerCase();
  const slash = n.lastIndexOf('/');
  if (slash >= 0) n = n.slice(slash + 1);
  return n.replace(DATE_SUFFIX, '');
}
