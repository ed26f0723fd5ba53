import type { FactorAdmin } from './factor-admin.js';
import type { LoginCompletion } from './login-completion.js';
import type { OwnFactors } from './own-factors.js';

/** What the services need of second factors: a login's second step, a user's own factors, administrators' resets and policy. */
export interface SecondFactorServices {
  completion: LoginCompletion;
  own: OwnFactors;
  admin: FactorAdmin;
}
