/** The access token the user typed in, kept in localStorage so a reload does not ask again. */
const KEY = 'ai-monitor.token';

export function readToken(): string | null {
  try {
    const t = localStorage.getItem(KEY);
    return t && t.trim() ? t.trim() : null;
  } catch {
    // Storage can be disabled (private modes, policies): then the token lives only in memory.
    return null;
  }
}

export function writeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    /* see readToken */
  }
}
