import { AuditEventSchema } from './audit-event.js';
import { LoginThrottleSchema } from './login-throttle.js';
import { SessionSchema } from './session.js';
import { SigningKeySchema } from './signing-key.js';
import { UserIdentifierSchema } from './user-identifier.js';
import { UserSchema } from './user.js';

export { AuditEvent, type AuditOutcome } from './audit-event.js';
export { LoginThrottle } from './login-throttle.js';
export { Session } from './session.js';
export { SigningKey } from './signing-key.js';
export { UserIdentifier, type IdentifierType } from './user-identifier.js';
export { User } from './user.js';

/**
 * Every entity the DataSource knows, listed explicitly (no globs). They are EntitySchemas whose
 * `target` is the plain class, so `dataSource.getRepository(User)` works and no decorators are
 * needed (see the note in data-source.ts).
 */
export const entities = [UserSchema, UserIdentifierSchema, SessionSchema, SigningKeySchema, LoginThrottleSchema, AuditEventSchema];
