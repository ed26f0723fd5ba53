import { PASSWORD_AMR } from '../domain/factors/amr.js';
import { AppError, catalog } from '../errors/index.js';
import { refuse, showSignIn } from './authorize.js';
import type { FrontChannel } from './context.js';
import { readParams, type Req, type Res } from './http.js';
import { showHeldStep } from './second-step.js';
import { pendingRequest, signedIn } from './signed-in.js';

/**
 * What the page tells, by the reason AuthFlows gives. Nothing here tells whether an identifier
 * exists: an unknown one and a wrong password are the same INVALID_CREDENTIALS (and a lock of
 * the account alone looks like it too); an inactive account is told only after its password
 * was proven, as at the API.
 */
const signInErrors: Partial<Record<string, { status: number; message: string }>> = {
  INVALID_CREDENTIALS: { status: 401, message: 'The identifier or password is not correct.' },
  INVALID_IDENTIFIER: { status: 400, message: 'Enter an e-mail address, a phone number or a username.' },
  USER_INACTIVE: { status: 403, message: 'This account is deactivated. Ask your administrator.' },
  WEAK_PASSWORD: { status: 400, message: catalog.WEAK_PASSWORD.message },
};

/** `GET /oidc/login`: the sign-in page on its own (no app waiting), e.g. from a bookmark. */
export function loginPage(d: FrontChannel, req: Req, res: Res): void {
  showSignIn(d, req, res, undefined, { status: 200 });
}

/**
 * `POST /oidc/login`: the sign-in form. The pending authorization request it carries is
 * validated again from scratch (a form is the user's, or an attacker's, to edit), then the form
 * must prove it came from our page in this browser (CSRF) before any credential is looked at.
 * The credentials go through AuthFlows.signIn: the API login's counting, lockout and audit. A
 * user with a second factor (or whom the policy asks to enrol one) is held for it (second-step.ts).
 */
export async function login(d: FrontChannel, req: Req, res: Res): Promise<void> {
  const form = await readParams(req);
  const pending = await pendingRequest(d, form);
  if ('refused' in pending) return refuse(d, res, pending.refused);
  const { request } = pending;
  const identifier = form.get('identifier') ?? '';
  const password = form.get('password') ?? '';
  if (!d.csrf.check(req, form)) {
    return showSignIn(d, req, res, request, {
      status: 403,
      identifier,
      error: 'This sign-in form has expired or was sent from another site. Please sign in again.',
    });
  }
  if (!identifier.trim() || !password) {
    return showSignIn(d, req, res, request, { status: 400, identifier, error: 'Enter your identifier and your password.' });
  }
  let outcome: Awaited<ReturnType<FrontChannel['flows']['signIn']>>;
  try {
    outcome = await d.flows.signIn({ identifier, secret: password, register: form.get('register') === '1' }, d.clientOf(req));
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.reason === 'TOO_MANY_ATTEMPTS')
      return showSignIn(d, req, res, request, { status: 429, identifier, error: e.message, headers: e.headers });
    const known = signInErrors[e.reason];
    if (!known) throw e;
    return showSignIn(d, req, res, request, { status: known.status, identifier, error: known.message });
  }
  if (outcome.hold) return showHeldStep(d, req, res, request, outcome.hold);
  await signedIn(d, req, res, request, { userId: outcome.user.id, amr: PASSWORD_AMR });
}
