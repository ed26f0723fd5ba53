import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '../auth/webauthn.js';
import type { LoginHold } from '../domain/factors/login-gate.js';
import type { GivenFactor } from '../domain/factors/login-completion.js';
import type { MfaTokenPurpose } from '../db/repositories/mfa-tokens.js';
import { AppError, catalog } from '../errors/index.js';
import type { AuthorizationRequest } from './authorization-request.js';
import { refuse, showSignIn } from './authorize.js';
import type { FrontChannel } from './context.js';
import { enrolPage, secondStepPage } from './factor-pages.js';
import { pageHeaders, readParams, sendHtml, type Req, type Res } from './http.js';
import { parsePasskeyJson } from './passkey-json.js';
import { styleHash } from './pages.js';
import { pendingRequest, signedIn } from './signed-in.js';

/** What the second form tells, by the reason LoginCompletion gives. */
const stepErrors: Partial<Record<string, { status: number; message: string }>> = {
  INVALID_SECOND_FACTOR: { status: 401, message: 'That code is not correct, or was already used.' },
  SECOND_FACTOR_MISSING: { status: 400, message: 'Enter the code.' },
  USER_INACTIVE: { status: 403, message: 'This account is deactivated. Ask your administrator.' },
  INVALID_PASSKEY: { status: 400, message: 'The passkey could not be registered. Please try again.' },
  PASSKEY_TAKEN: { status: 409, message: catalog.PASSKEY_TAKEN.message },
  TOTP_NOT_PENDING: { status: 400, message: 'No authenticator app is waiting to be confirmed. Please sign in again.' },
};

interface Step {
  purpose: MfaTokenPurpose;
  factors: string[];
}

/**
 * After a right password, for a user who needs more: the held sign-in's cookie and the second
 * form. A user the policy asks to enrol gets a new TOTP secret to add to an app (or a passkey).
 */
export async function showHeldStep(
  d: FrontChannel,
  req: Req,
  res: Res,
  request: AuthorizationRequest | undefined,
  hold: LoginHold,
): Promise<void> {
  const cookie = d.held.setCookie(hold.mfaToken);
  if (hold.status === 'mfa_enrollment_required') {
    const { otpauthUri } = await d.mfa.completion.enroll(hold.mfaToken, 'totp', d.clientOf(req));
    return showStep(d, req, res, request, { purpose: 'enroll', factors: hold.factors }, { status: 200, otpauthUri, cookies: [cookie] });
  }
  showStep(d, req, res, request, { purpose: 'mfa', factors: hold.factors }, { status: 200, cookies: [cookie] });
}

function showStep(
  d: FrontChannel,
  req: Req,
  res: Res,
  request: AuthorizationRequest | undefined,
  step: Step,
  o: { status: number; error?: string; otpauthUri?: string; headers?: Record<string, string>; cookies?: string[] },
): void {
  const { token, setCookie } = d.csrf.token(req);
  const page = { carry: request?.carried ?? [], csrf: token, appName: request?.client.name, error: o.error };
  const html =
    step.purpose === 'enroll' ? enrolPage({ ...page, otpauthUri: o.otpauthUri }) : secondStepPage({ ...page, factors: step.factors });
  // The form's answer may redirect to the app, so its origin is a permitted form target.
  const headers: Record<string, string | string[]> = { ...pageHeaders(styleHash, request ? [request.redirectUri] : []), ...o.headers };
  const cookies = [...(o.cookies ?? []), ...(setCookie ? [setCookie] : [])];
  if (cookies.length) headers['set-cookie'] = cookies;
  sendHtml(res, o.status, html, headers);
}

/**
 * `POST /oidc/mfa`: the second form. As the first: the carried request is validated again, then
 * the form must come from our page in this browser (CSRF) before the held sign-in is looked at.
 * The step is the browser's held mfa_token (its cookie), never anything in the form; the factor
 * is a TOTP code, a recovery code, or (from the passkey script) a passkey's assertion, or its
 * registration when enrolling. LoginCompletion checks it with the API's counting, lockout and
 * audit; a wrong code may be retried while the token lives.
 */
export async function secondStep(d: FrontChannel, req: Req, res: Res): Promise<void> {
  const form = await readParams(req);
  const pending = await pendingRequest(d, form);
  if ('refused' in pending) return refuse(d, res, pending.refused);
  const { request } = pending;
  const again = (status: number, error: string) => showSignIn(d, req, res, request, { status, error });
  if (!d.csrf.check(req, form)) return again(403, 'This form has expired or was sent from another site. Please sign in again.');
  const mfaToken = d.held.token(req);
  const expired = () => again(401, 'Your sign-in has expired. Please sign in again.');
  if (!mfaToken) return expired();
  let step: Step;
  try {
    step = await d.mfa.completion.step(mfaToken);
  } catch (e) {
    if (e instanceof AppError && e.reason === 'INVALID_MFA_TOKEN') return expired();
    throw e;
  }
  const given = givenFactor(form, step.purpose);
  if (!given) return showStep(d, req, res, request, step, { status: 400, error: 'Enter the code, or use your passkey again.' });
  let done;
  try {
    done = await d.mfa.completion.completeSignIn(mfaToken, given, d.clientOf(req));
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    if (e.reason === 'INVALID_MFA_TOKEN') return expired();
    if (e.reason === 'TOO_MANY_ATTEMPTS')
      return showStep(d, req, res, request, step, { status: 429, error: e.message, headers: e.headers });
    const known = stepErrors[e.reason];
    if (!known) throw e;
    return showStep(d, req, res, request, step, { status: known.status, error: known.message });
  }
  await signedIn(d, req, res, request, { userId: done.user.id, amr: done.amr, recoveryCodes: done.recoveryCodes });
}

/** The one factor the form gives, in LoginCompletion's terms; undefined when none can be read. */
function givenFactor(form: URLSearchParams, purpose: MfaTokenPurpose): GivenFactor | undefined {
  const passkey = form.get('passkey');
  if (passkey) {
    if (purpose === 'enroll') {
      const registration = parsePasskeyJson<RegistrationResponseJSON>(passkey);
      return registration && { passkeyRegistration: registration, passkeyName: 'Passkey' };
    }
    const assertion = parsePasskeyJson<AuthenticationResponseJSON>(passkey);
    return assertion && { passkeyAssertion: assertion };
  }
  const recovery = form.get('recovery_code')?.trim();
  if (recovery) return { recoveryCode: recovery };
  // People type a code as they see it in the app: "123 456".
  const code = form.get('code')?.replace(/\s/g, '');
  return code ? { totpCode: code } : undefined;
}
