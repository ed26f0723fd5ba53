import type { ConsoleSession } from './session.js';

let current: ConsoleSession | undefined;

/** The one signed-in session of this tab; the pages reach the clients and `me` through it. */
export function setSession(session: ConsoleSession): void {
  current = session;
}

export function useSession(): ConsoleSession {
  if (!current) throw new Error('no console session');
  return current;
}
