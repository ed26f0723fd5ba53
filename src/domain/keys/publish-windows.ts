/**
 * How long each cache between a key rotation and a verifier may go on serving the old key set.
 * A rotated-in key must be published for longer than all of them together before it signs, or
 * verifiers refuse its tokens until their caches catch up. The server's own reload and the JWKS
 * answer's max-age are set from here, so the minimum publication delay follows them.
 */

/** How often an instance re-reads the published keys (another instance may have rotated). */
export const KEY_RELOAD_SECONDS = 30;

/** The JWKS answer's Cache-Control max-age: a shared HTTP cache in front may serve the old set this long. */
export const JWKS_MAX_AGE_SECONDS = 60;

/**
 * jose's createRemoteJWKSet refetches on an unknown kid, but at most once per `cooldownDuration`
 * (30 s by default): a verifier that fetched the old set just before will refuse the new kid that
 * long. (Its `cacheMaxAge`, 10 min, only bounds how long known keys are trusted without a fetch.)
 */
export const JOSE_COOLDOWN_SECONDS = 30;

/** Slack for clock skew between instances (one sets the activation time, another reads it) and slow fetches. */
export const PUBLISH_MARGIN_SECONDS = 30;

/**
 * The shortest safe SSO_KEY_PUBLISH_DELAY. Worst case after a rotation: another instance answers
 * the JWKS without the new key for up to KEY_RELOAD_SECONDS, a shared cache keeps that answer for
 * JWKS_MAX_AGE_SECONDS more, and a jose verifier that fetched it at the last moment will not look
 * again for JOSE_COOLDOWN_SECONDS.
 */
export const MIN_KEY_PUBLISH_DELAY_SECONDS = KEY_RELOAD_SECONDS + JWKS_MAX_AGE_SECONDS + JOSE_COOLDOWN_SECONDS + PUBLISH_MARGIN_SECONDS;
