// Token lifetimes and key rotation without a database or timers: Tokens and KeyStore over an
// in-memory key storage and a clock the test moves, with real keys and real signatures (jose,
// node:crypto). key-rotation.test.ts checks the same against a running server and its tables.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { NewSigningKey, SigningKeyRecord } from '../../src/db/repositories/signing-keys.js';
import type { SigningKeyRows, SigningKeyStorage } from '../../src/domain/keys/key-storage.js';
import { remembersToken } from '../../src/auth/tokens.js';
import { KeyStore } from '../../src/domain/keys/key-store.js';
import { Tokens } from '../../src/domain/tokens.js';
import { AppError } from '../../src/errors/index.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const accessTtl = 900;
const refreshTtl = 30 * 86_400;
const publishDelay = 120;
/** As the server sets it: the longest token life, and a minute. */
const retention = Math.max(accessTtl, refreshTtl) + 60;
/** Verification allows this much clock skew (domain/tokens.ts). */
const skew = 5;

class FakeClock {
  ms = T0;
  readonly now = () => this.ms;
  /** Moves to `seconds` after T0 (fractions allowed). */
  at(seconds: number): void {
    this.ms = T0 + seconds * 1000;
  }
}

/** The key storage in an array: one instance, so `exclusively` needs no lock. */
class MemoryKeys implements SigningKeyStorage {
  readonly rows: SigningKeyRecord[] = [];
  constructor(private readonly clock: FakeClock) {}

  async published(at: Date): Promise<SigningKeyRecord[]> {
    return this.rows.filter((k) => !k.unpublishAt || k.unpublishAt > at).map((k) => ({ ...k }));
  }
  async insert(key: NewSigningKey): Promise<void> {
    this.rows.push({ ...key, createdAt: new Date(this.clock.ms), retiredAt: null, unpublishAt: null });
  }
  async retire(kid: string, retiredAt: Date, unpublishAt: Date): Promise<void> {
    Object.assign(this.rows.find((k) => k.kid === kid)!, { retiredAt, unpublishAt });
  }
  exclusively<T>(work: (keys: SigningKeyRows) => Promise<T>): Promise<T> {
    return work(this);
  }
}

async function setup() {
  const clock = new FakeClock();
  const storage = new MemoryKeys(clock);
  const keys = new KeyStore(storage, {
    alg: 'ES256',
    secret: 'token-lifetimes-test-secret-0123456789',
    publishDelay,
    retention,
    clock: clock.now,
  });
  await keys.init();
  const tokens = new Tokens(keys, { issuer: 'https://sso.test', accessTtl, refreshTtl }, clock.now);
  return { clock, storage, keys, tokens };
}

const access = (tokens: Tokens) => tokens.issueAccess({ sub: 'u1', aud: 'sso', sessionId: 's1', roles: [], scopes: [], amr: ['pwd'] });
const refresh = (tokens: Tokens) => tokens.issueRefresh({ sub: 'u1', aud: 'sso', sessionId: 's1', jti: 'j1' });

/** The reason a verification is refused with, or 'ok'. */
async function outcome(verify: Promise<unknown>): Promise<string> {
  try {
    await verify;
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    return e.reason;
  }
}

describe('token lifetimes (fake clock, real signatures)', () => {
  test('an access token lives accessTtl from iat; nbf = iat = the issuing second', async () => {
    const { clock, tokens } = await setup();
    clock.at(10.7);
    const { token, claims } = await access(tokens);
    const iat = Math.floor(clock.ms / 1000);
    assert.deepEqual([claims.iat, claims.nbf, claims.exp], [iat, iat, iat + accessTtl]);
    assert.deepEqual(decodeJwt(token), { ...claims }, 'the signed claims are the returned ones');
    assert.equal(await outcome(tokens.verifyAccess(token)), 'ok');
    // Refused once exp is `skew` seconds past (the allowed clock skew), on a repeated (memoized)
    // verification too, and before nbf by more than the skew.
    clock.at(10 + accessTtl + skew - 0.001);
    assert.equal(await outcome(tokens.verifyAccess(token)), 'ok');
    clock.at(10 + accessTtl + skew);
    assert.equal(await outcome(tokens.verifyAccess(token)), 'TOKEN_EXPIRED');
    clock.at(10 - skew);
    assert.equal(await outcome(tokens.verifyAccess(token)), 'ok');
    clock.at(10 - skew - 1);
    assert.equal(await outcome(tokens.verifyAccess(token)), 'INVALID_TOKEN');
  });

  test('a refresh token lives refreshTtl from iat, and is refused as an access token and after exp', async () => {
    const { clock, tokens } = await setup();
    const token = await refresh(tokens);
    const claims = decodeJwt(token);
    assert.deepEqual([claims.iat, claims.nbf, claims.exp], [T0 / 1000, T0 / 1000, T0 / 1000 + refreshTtl]);
    assert.equal((await tokens.verifyRefresh(token)).session_id, 's1');
    // Presented once (rotation retires it): not kept among verified tokens, where access tokens are.
    assert.equal(remembersToken(token), false);
    const { token: accessToken } = await access(tokens);
    await tokens.verifyAccess(accessToken);
    assert.equal(remembersToken(accessToken), true);
    assert.equal(await outcome(tokens.verifyAccess(token)), 'INVALID_TOKEN');
    clock.at(refreshTtl + skew - 1);
    assert.equal(await outcome(tokens.verifyRefresh(token)), 'ok');
    clock.at(refreshTtl + skew);
    assert.equal(await outcome(tokens.verifyRefresh(token)), 'TOKEN_EXPIRED');
  });

  test('an ID token lives accessTtl; as a logout hint it is accepted long after', async () => {
    const { clock, tokens } = await setup();
    const id = await tokens.issueIdToken({ sub: 'u1', clientId: 'app', authTime: new Date(T0), amr: ['pwd'], sid: 's1', claims: {} });
    const claims = decodeJwt(id);
    assert.deepEqual([claims.iat, claims.exp, claims.auth_time], [T0 / 1000, T0 / 1000 + accessTtl, T0 / 1000]);
    clock.at(accessTtl * 10);
    assert.deepEqual(await tokens.verifyIdTokenHint(id), { sub: 'u1', aud: 'app', sid: 's1' });
  });
});

describe('key rotation (fake clock, real keys)', () => {
  test('a rotated-in key is published at once and signs only after its publish delay', async () => {
    const { clock, keys, tokens } = await setup();
    const k1 = decodeProtectedHeader((await access(tokens)).token).kid!;
    clock.at(100);
    const k2 = (await keys.rotate()).kid;
    assert.equal(
      keys
        .list()
        .find((k) => k.kid === k2)!
        .activatesAt.getTime(),
      T0 + (100 + publishDelay) * 1000,
    );
    assert.deepEqual(
      (await keys.jwks()).keys.map((k) => k.kid),
      [k2, k1],
      'both published, newest first',
    );
    const status = () => Object.fromEntries(keys.list().map((k) => [k.kid, k.status]));
    assert.deepEqual(status(), { [k1]: 'active', [k2]: 'pending' });
    clock.at(100 + publishDelay - 0.001);
    assert.equal(decodeProtectedHeader((await access(tokens)).token).kid, k1);
    clock.at(100 + publishDelay);
    assert.equal(decodeProtectedHeader((await access(tokens)).token).kid, k2);
    assert.deepEqual(status(), { [k1]: 'retired', [k2]: 'active' });
  });

  test('a retired key verifies the tokens it signed until its retention is over, then leaves the JWKS', async () => {
    const { clock, keys, tokens, storage } = await setup();
    await keys.rotate();
    // The last refresh token the old key signs, a moment before the new key takes over.
    clock.at(publishDelay - 1);
    const last = await refresh(tokens);
    const k1 = decodeProtectedHeader(last).kid!;
    const unpublishAt = storage.rows.find((k) => k.kid === k1)!.unpublishAt!.getTime();
    assert.equal(unpublishAt, T0 + (publishDelay + retention) * 1000, 'retired at the switch, published for `retention` more');
    // It still verifies at the end of its life (the key store re-reads the keys as time passes).
    clock.at(publishDelay - 1 + refreshTtl);
    assert.equal(await outcome(tokens.verifyRefresh(last)), 'ok');
    assert.ok(await keys.verificationKey(k1));
    clock.ms = unpublishAt - 1;
    await keys.reload();
    assert.ok((await keys.jwks()).keys.some((k) => k.kid === k1));
    clock.ms = unpublishAt;
    await keys.reload();
    assert.equal(await keys.verificationKey(k1), undefined);
    assert.equal(
      (await keys.jwks()).keys.some((k) => k.kid === k1),
      false,
    );
  });

  test('a rotation supersedes a pending key: it never signs, and retires with the current one', async () => {
    const { clock, keys, tokens } = await setup();
    const k1 = decodeProtectedHeader((await access(tokens)).token).kid!;
    const k2 = (await keys.rotate()).kid;
    clock.at(10);
    const k3 = (await keys.rotate(0)).kid;
    assert.equal(decodeProtectedHeader((await access(tokens)).token).kid, k3);
    const listed = new Map(keys.list().map((k) => [k.kid, k]));
    assert.deepEqual([listed.get(k1)!.status, listed.get(k2)!.status, listed.get(k3)!.status], ['retired', 'retired', 'active']);
    assert.equal(listed.get(k2)!.retiredAt!.getTime(), T0 + 10_000);
    clock.at(publishDelay + 1);
    assert.equal(decodeProtectedHeader((await access(tokens)).token).kid, k3, 'the superseded key never signs');
  });
});
