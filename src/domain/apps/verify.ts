import type { DataSource } from 'typeorm';
import { isAssigned } from '../../db/repositories/app-assignments.js';
import type { UserRecord } from '../../db/repositories/users.js';
import { AppError } from '../../errors/index.js';
import type { AuditLog } from '../audit.js';
import type { AuthFlows, Client } from '../auth/auth-flows.js';
import { appForKey } from './app-keys.js';

/** The ASF messages, exactly: legacy apps compare them as strings. */
export const verifyMessages = {
  authorized: 'Authorized',
  invalidCredentials: 'Invalid username or password',
  notAssigned: 'User not authorized for this application',
  inactive: 'User account is inactive',
  invalidApiKey: 'Invalid API key',
} as const;

export type VerifyOutcome = { authorized: true; message: string; user: UserRecord } | { authorized: false; message: string };

export interface AppVerifierDeps {
  ds: DataSource;
  flows: AuthFlows;
  audit: AuditLog;
}

const refusal = (message: string): VerifyOutcome => ({ authorized: false, message });

/**
 * The legacy `POST /verify`: may this user use the app owning this key? Checks in this order,
 * so that nobody learns anything about a user without that user's password:
 *   1. the app key (a bad key costs no password check and counts no attempt);
 *   2. the password, with login protection and the same cost for unknown users (AuthFlows);
 *   3. whether the account is active;
 *   4. whether the user is assigned to the app.
 * Credential outcomes are answers, not errors; a lock (too many attempts) is an error, since it
 * says nothing about the credentials and the caller needs its Retry-After.
 */
export class AppVerifier {
  constructor(private readonly d: AppVerifierDeps) {}

  async verify(input: { username: string; password: string; apiKey: string }, client: Client): Promise<VerifyOutcome> {
    const appId = await appForKey(this.d.ds, input.apiKey);
    if (!appId) {
      await this.d.audit.record({ type: 'verify', outcome: 'failure', reason: 'INVALID_API_KEY', ...client });
      return refusal(verifyMessages.invalidApiKey);
    }
    let checked: { user: UserRecord; key: string };
    try {
      checked = await this.d.flows.checkLegacyCredentials(input.username, input.password, client, 'verify');
    } catch (e) {
      if (e instanceof AppError && e.reason === 'INVALID_CREDENTIALS') return refusal(verifyMessages.invalidCredentials);
      if (e instanceof AppError && e.reason === 'USER_INACTIVE') return refusal(verifyMessages.inactive);
      // A password alone does not authorize a user with a second factor (this door has no second
      // step): "not authorized", not "invalid password", which would be untrue and send the user
      // to reset a right password.
      if (e instanceof AppError && e.reason === 'MFA_REQUIRED') return refusal(verifyMessages.notAssigned);
      throw e;
    }
    const { user, key } = checked;
    if (!(await isAssigned(this.d.ds, appId, user.id))) {
      await this.d.audit.record({
        type: 'verify',
        outcome: 'failure',
        actorId: user.id,
        identifier: key,
        reason: 'APP_NOT_ASSIGNED',
        ...client,
      });
      return refusal(verifyMessages.notAssigned);
    }
    await this.d.audit.record({ type: 'verify', outcome: 'success', actorId: user.id, identifier: key, ...client });
    return { authorized: true, message: verifyMessages.authorized, user };
  }
}
