import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Code, ConnectError } from '@connectrpc/connect';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { AuthService, type SigningKey } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { decryptPrivateKey } from '../../src/auth/index.js';
import { startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const publishDelay = 2;

let server: TestServer;
const admin = { identifier: 'keys-admin@example.com', secret: 'keys-admin-password' };

before(async () => {
  server = await startTestServer({ keyPublishDelay: publishDelay });
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...admin, register: true } });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { user: { is_admin: boolean } }).user.is_admin, true);
});

after(async () => {
  await server?.stop();
});

async function login(who = admin): Promise<string> {
  const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: who });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid!;

async function publishedKids(): Promise<string[]> {
  const res = await fetch(`${server.url}/.well-known/jwks.json`);
  return ((await res.json()) as { keys: JWK[] }).keys.map((k) => k.kid!);
}

/** Verifies as a relying app does: a fresh remote JWKS, the server's issuer. */
async function verifiesOffline(token: string): Promise<void> {
  await jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)), {
    issuer: server.config.issuer,
    audience: 'sso',
  });
}

describe('private keys at rest', () => {
  test('are encrypted with the configured secret, never stored as plain JWK', async () => {
    const rows = (await server.app.database.dataSource.query('SELECT kid, public_jwk, private_key_encrypted FROM signing_keys')) as {
      kid: string;
      public_jwk: JWK | string;
      private_key_encrypted: string;
    }[];
    assert.ok(rows.length >= 1);
    for (const row of rows) {
      const blob = row.private_key_encrypted;
      assert.ok(blob.startsWith('v1.'), `no blob version prefix: ${blob.slice(0, 10)}`);
      assert.doesNotMatch(blob, /"d"|"kty"|\{/, 'looks like plain JSON');
      // Decrypting with the configured secret gives a private key whose public half is the published one...
      const privateJwk = decryptPrivateKey(blob, server.config.keySecret!);
      assert.equal(typeof privateJwk.d, 'string');
      assert.ok(!blob.includes(privateJwk.d!), 'the private scalar appears in the stored blob');
      assert.ok(
        !blob.includes(Buffer.from(privateJwk.d!, 'base64url').toString('base64')),
        'the private scalar appears (base64) in the stored blob',
      );
      const publicJwk = typeof row.public_jwk === 'string' ? (JSON.parse(row.public_jwk) as JWK) : row.public_jwk;
      assert.equal(privateJwk.x, publicJwk.x);
      assert.equal(privateJwk.y, publicJwk.y);
      assert.equal('d' in publicJwk, false, 'the public column holds a private member');
      // ... and it really signs what the published key verifies.
      const signer = await importJWK({ ...privateJwk, alg: 'ES256' }, 'ES256');
      const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).sign(signer);
      await jwtVerify(jwt, await importJWK(publicJwk, 'ES256'));
      // A different secret cannot read it.
      assert.throws(() => decryptPrivateKey(blob, 'another-secret-another-secret-another-secret'), /decrypt/);
    }
  });

  test('two encryptions of keys never share salt or IV', async () => {
    await server.client(AuthService, { token: await login() }).rotateSigningKey({});
    const rows = (await server.app.database.dataSource.query('SELECT private_key_encrypted FROM signing_keys')) as {
      private_key_encrypted: string;
    }[];
    assert.ok(rows.length >= 2);
    const salts = rows.map((r) => r.private_key_encrypted.split('.')[1]);
    const ivs = rows.map((r) => r.private_key_encrypted.split('.')[2]);
    assert.equal(new Set(salts).size, rows.length);
    assert.equal(new Set(ivs).size, rows.length);
    // Let that rotation's key become active before the next describe block measures a fresh rotation.
    await new Promise((r) => setTimeout(r, publishDelay * 1000 + 200));
  });
});

describe('rotation without a failed verification', () => {
  test('a new key is published before it signs, the old one stays published after', async () => {
    const tokenA = await login();
    const k1 = kidOf(tokenA);
    const adminClient = server.client(AuthService, { token: tokenA });
    const listed = async () => new Map((await adminClient.listSigningKeys({})).items.map((k) => [k.kid, k]));
    assert.equal((await listed()).get(k1)?.status, 'active');

    const before = Date.now();
    const rotated = (await adminClient.rotateSigningKey({})).key!;
    const k2 = rotated.kid;
    assert.notEqual(k2, k1);
    assert.equal(rotated.status, 'pending');
    assert.equal(rotated.alg, 'ES256');
    const activatesAt = timestampDate(rotated.activatesAt!).getTime();
    assert.ok(
      activatesAt >= before + publishDelay * 1000 - 50 && activatesAt <= Date.now() + publishDelay * 1000 + 50,
      `activates_at ${new Date(activatesAt).toISOString()} is not about ${publishDelay}s away`,
    );

    // Pending: published at once, but tokens are still signed with K1.
    const kids = await publishedKids();
    assert.ok(kids.includes(k1) && kids.includes(k2), `JWKS ${kids.join(', ')} lacks ${k1} or ${k2}`);
    const whilePending = await login();
    assert.equal(kidOf(whilePending), k1, 'a pending key must not sign yet');
    let keys = await listed();
    assert.equal(keys.get(k2)?.status, 'pending');
    assert.equal(keys.get(k1)?.status, 'active');
    const k1Scheduled = keys.get(k1)!;
    assert.ok(k1Scheduled.retiredAt, 'K1 is scheduled to retire');
    assert.equal(timestampDate(k1Scheduled.retiredAt).getTime(), activatesAt, 'K1 retires when K2 starts signing');

    // After the delay: K2 signs, K1 is retired but still published and still verifies.
    await new Promise((r) => setTimeout(r, Math.max(0, activatesAt - Date.now()) + 100));
    const tokenB = await login();
    assert.equal(kidOf(tokenB), k2);
    const kidsAfter = await publishedKids();
    assert.ok(kidsAfter.includes(k1) && kidsAfter.includes(k2), `JWKS ${kidsAfter.join(', ')}`);

    for (const token of [tokenA, whilePending, tokenB]) {
      const me = await server.rest('/api/sso/v1/me', { token });
      assert.equal(me.status, 200, `token signed by ${kidOf(token)}: ${await me.text()}`);
      await verifiesOffline(token);
      const verified = await server.client(AuthService).verifyToken({ token });
      assert.equal(verified.claims?.tokenType, 'access');
    }

    keys = await listed();
    const k1Retired = keys.get(k1)!;
    assert.equal(k1Retired.status, 'retired');
    assert.equal(keys.get(k2)?.status, 'active');
    assert.ok(k1Retired.unpublishAt, 'a retired key has an unpublish time');
    const unpublishAt = timestampDate(k1Retired.unpublishAt).getTime();
    // It stays published at least as long as any token it signed (access and refresh) lives.
    const longest = Math.max(server.config.accessTtl, server.config.refreshTtl) * 1000;
    assert.ok(unpublishAt >= activatesAt + longest, `unpublish_at ${new Date(unpublishAt).toISOString()} is too early`);

    // One more rotation: all three states at once.
    const k3 = (await adminClient.rotateSigningKey({}, { headers: { authorization: `Bearer ${tokenB}` } })).key!.kid;
    keys = await listed();
    const statuses = Object.fromEntries([k1, k2, k3].map((k) => [k, keys.get(k)?.status]));
    assert.deepEqual(statuses, { [k1]: 'retired', [k2]: 'active', [k3]: 'pending' });
    const items: SigningKey[] = [...keys.values()];
    for (const item of items) assert.ok(item.createdAt && item.activatesAt, `${item.kid} lacks timestamps`);
    // Newest first.
    const order = items.map((k) => k.kid);
    assert.ok(order.indexOf(k3) < order.indexOf(k2) && order.indexOf(k2) < order.indexOf(k1), order.join(', '));
  });

  test('a refresh token signed by a retired key still refreshes', async () => {
    const res = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: admin });
    const { refresh_token: refresh } = (await res.json()) as { refresh_token: string };
    const signer = kidOf(refresh);
    await server.client(AuthService, { token: await login() }).rotateSigningKey({});
    await new Promise((r) => setTimeout(r, publishDelay * 1000 + 200));
    const refreshed = await server.rest('/api/sso/v1/auth/refresh', { method: 'POST', json: { refresh_token: refresh } });
    assert.equal(refreshed.status, 200, await refreshed.clone().text());
    const next = (await refreshed.json()) as { access_token: string };
    assert.notEqual(kidOf(next.access_token), signer);
  });

  test('only a caller with manage:keys may rotate; read:keys to list', async () => {
    const user = { identifier: 'plain-user@example.com', secret: 'plain-user-password' };
    const reg = await server.rest('/api/sso/v1/auth/login', { method: 'POST', json: { ...user, register: true } });
    assert.equal(reg.status, 200);
    const client = server.client(AuthService, { token: await login(user) });
    for (const call of [() => client.rotateSigningKey({}), () => client.listSigningKeys({})]) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, Code.PermissionDenied);
    }
    const anonymous = await server.rest('/api/sso/v1/keys/rotate', { method: 'POST' });
    assert.equal(anonymous.status, 401);
  });
});

describe('npm run keys:rotate (CLI, against its own embedded data dir)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sso-cli-keys-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const env = (extra: NodeJS.ProcessEnv = { SSO_KEY_SECRET: 'cli-secret-cli-secret-cli-secret-0123', LOG_LEVEL: 'silent' }) => {
    const e: NodeJS.ProcessEnv = { ...process.env, SSO_DATA_DIR: dataDir, ...extra };
    delete e.DATABASE_URL;
    delete e.TEST_DATABASE_URL;
    delete e.LOG_LEVEL;
    if (extra.LOG_LEVEL) e.LOG_LEVEL = extra.LOG_LEVEL;
    if (!extra.SSO_KEY_SECRET) delete e.SSO_KEY_SECRET;
    return e;
  };
  const cli = (args: string[], extraEnv?: NodeJS.ProcessEnv) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/keys-rotate.ts', ...args], { cwd: root, env: env(extraEnv), timeout: 120_000 });

  interface Output {
    rotated: string;
    alg: string;
    signs_from: string;
    keys: { kid: string; status: string; activates_at: string; retired_at: string | null; unpublish_at: string | null }[];
  }

  for (const args of [['--delay', 'soon'], ['--delay=-1'], ['--delay', '1.5'], ['--delay'], ['--dealy', '5'], ['now']]) {
    test(`${JSON.stringify(args)} is refused before anything is opened`, async () => {
      const err = (await cli(args).then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: number; stderr?: string; stdout?: string } | undefined;
      assert.ok(err, 'expected a non-zero exit');
      assert.equal(err.code, 1);
      assert.match(err.stderr ?? '', /delay|dealy|now|argument/i);
      assert.equal(err.stdout, '');
    });
  }

  test('rotates twice: the previous key retires and stays listed', async () => {
    const first = JSON.parse((await cli(['--delay', '0'])).stdout) as Output;
    assert.equal(first.alg, 'ES256');
    assert.equal(first.keys.length, 2, JSON.stringify(first.keys));
    const [newest, previous] = first.keys;
    assert.equal(newest!.kid, first.rotated);
    assert.equal(newest!.status, 'active');
    assert.ok(previous!.status === 'retired' || (previous!.retired_at !== null && previous!.status === 'active'), JSON.stringify(previous));
    assert.ok(previous!.retired_at, 'the previous key is retired or scheduled to');
    assert.ok(previous!.unpublish_at && new Date(previous!.unpublish_at).getTime() > Date.now(), 'still published');

    const second = JSON.parse((await cli(['--delay=60'])).stdout) as Output;
    assert.equal(second.keys.length, 3);
    const kids = second.keys.map((k) => k.kid);
    assert.deepEqual(kids, [second.rotated, first.rotated, previous!.kid], "the data dir kept the first run's keys");
    const byKid = new Map(second.keys.map((k) => [k.kid, k]));
    assert.equal(byKid.get(second.rotated)!.status, 'pending');
    assert.ok(Math.abs(new Date(second.signs_from).getTime() - (Date.now() + 60_000)) < 30_000, second.signs_from);
    assert.equal(byKid.get(first.rotated)!.status, 'active', 'the current key signs until the new one takes over');
    assert.equal(byKid.get(first.rotated)!.retired_at, second.signs_from);
    assert.equal(byKid.get(previous!.kid)!.status, 'retired');
  });

  test('an immediate rotation supersedes a pending one; stdout stays pure JSON when the CLI warns', async () => {
    // No SSO_KEY_SECRET: a development secret is generated in the data dir, with a warning.
    const { stdout, stderr } = await cli(['--delay', '0'], { LOG_LEVEL: 'warn' });
    assert.match(stderr, /SSO_KEY_SECRET/);
    const out = JSON.parse(stdout) as Output;
    assert.equal(out.keys.length, 4);
    const byStatus = (status: string) => out.keys.filter((k) => k.status === status).map((k) => k.kid);
    assert.deepEqual(byStatus('active'), [out.rotated]);
    // The key the previous run scheduled (signing in 60 s) will never sign now: it is retired, not pending.
    assert.deepEqual(byStatus('pending'), []);
    assert.equal(byStatus('retired').length, 3);
  });
});
