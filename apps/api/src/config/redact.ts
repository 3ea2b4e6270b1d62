/** Hiding secrets in what is logged or printed. */
export const MASK = '****';

/**
 * `postgres://user:****@host/db`: a URL with its password hidden. `hidePath` also hides path
 * and query, which carry the secret in chat webhook URLs.
 */
export function redactUrl(text: string, hidePath = false): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = MASK;
    if (hidePath && (url.pathname.length > 1 || url.search)) return `${url.protocol}//${url.host}/${MASK}`;
    return url.toString();
  } catch {
    return MASK;
  }
}
