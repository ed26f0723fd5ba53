// Passkeys (WebAuthn Level 3): the only user of @simplewebauthn/server. The library checks what
// the spec asks of a ceremony (type, challenge, origin, RP ID hash, user presence, signature,
// and the signature counter against the stored one); these wrappers fix the server's choices.
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

export type { AuthenticationResponseJSON, RegistrationResponseJSON };

let loaded: Promise<typeof import('@simplewebauthn/server')> | undefined;

/**
 * The library is loaded by the first passkey ceremony, not at start: with its X.509 and ASN.1
 * dependencies it is about 300 modules, which alone took about as long to import as TypeORM and
 * added about 18 MB of RSS (README: the embedded database's start and memory).
 */
function library(): Promise<typeof import('@simplewebauthn/server')> {
  loaded ??= import('@simplewebauthn/server').catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

/** Where passkeys are valid: the relying party id (a host) and the page origins allowed to use them. */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

export interface StoredCredential {
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
}

/** How long a challenge is good for, in seconds (also the browser's timeout). */
export const WEBAUTHN_CHALLENGE_SECONDS = 300;

export async function registrationOptions(
  rp: RelyingParty,
  user: { id: string; name: string },
  exclude: StoredCredential[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { generateRegistrationOptions } = await library();
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.name,
    userDisplayName: user.name,
    // The user handle is the user id: a discoverable credential names its user at sign-in.
    userID: new TextEncoder().encode(user.id),
    timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: exclude.map((c) => ({ id: c.credentialId, transports: c.transports })),
    // A resident (discoverable) key, so it can sign in without an identifier; user verification
    // preferred, so a passkey with a PIN or biometric counts as more than possession.
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  });
}

export async function authenticationOptions(rp: RelyingParty, allow: StoredCredential[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await library();
  return generateAuthenticationOptions({
    rpID: rp.id,
    timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
    userVerification: 'preferred',
    allowCredentials: allow.map((c) => ({ id: c.credentialId, transports: c.transports })),
  });
}

/**
 * What a registration and an assertion alike must show: a live challenge, one of the relying
 * party's origins and its id. User verification is preferred, not required: a passkey without a
 * PIN or biometric still counts as possession.
 */
function expected(rp: RelyingParty, takeChallenge: (challenge: string) => Promise<boolean>) {
  return { expectedChallenge: takeChallenge, expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: false };
}

/**
 * Checks a registration; `takeChallenge` must spend the challenge (single-use) and say whether
 * it was live. Undefined when it does not verify.
 */
export async function checkRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  takeChallenge: (challenge: string) => Promise<boolean>,
): Promise<
  { credentialId: string; publicKey: Uint8Array; counter: number; transports: string[]; deviceType: string; backedUp: boolean } | undefined
> {
  const { verifyRegistrationResponse } = await library();
  try {
    const result = await verifyRegistrationResponse({ response, ...expected(rp, takeChallenge) });
    if (!result.verified) return undefined;
    const info = result.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: info.credential.transports ?? response.response.transports ?? [],
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
    };
  } catch {
    return undefined;
  }
}

/**
 * Checks an assertion by a stored credential (the counter must have grown, unless the
 * authenticator keeps none); `takeChallenge` as for registrations. Undefined when it does not
 * verify.
 */
export async function checkAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  credential: StoredCredential,
  takeChallenge: (challenge: string) => Promise<boolean>,
): Promise<{ newCounter: number; userVerified: boolean } | undefined> {
  const { verifyAuthenticationResponse } = await library();
  try {
    const result = await verifyAuthenticationResponse({
      response,
      ...expected(rp, takeChallenge),
      credential: {
        id: credential.credentialId,
        publicKey: new Uint8Array(credential.publicKey),
        counter: credential.counter,
        transports: credential.transports,
      },
    });
    return result.verified
      ? { newCounter: result.authenticationInfo.newCounter, userVerified: result.authenticationInfo.userVerified }
      : undefined;
  } catch {
    return undefined;
  }
}
