/**
 * Raw limits measured in this process, in the same run as the server figures they divide: what
 * no server on this machine can beat for the work an operation has to do (the same shapes as
 * ../shared/peers/raw-limits.mjs, so our ratios and the peers' compare).
 */
import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { SignJWT, generateKeyPair, jwtVerify } from 'jose';
import pg from 'pg';
import { opsPerSecond } from './lib.js';

export async function bcryptCompare(cost: number, seconds: number, parallel = 2): Promise<number> {
  const hash = await bcrypt.hash('bench-password-1', cost);
  return opsPerSecond(() => bcrypt.compare('bench-password-1', hash), parallel, seconds);
}

/** ES256 signatures / verifications of an access-token-sized payload, one at a time (CPU-bound). */
export async function es256(): Promise<{ sign(seconds: number): Promise<number>; verify(seconds: number): Promise<number> }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const claims = { sub: 'u', aud: 'sso', iss: 'http://127.0.0.1', scopes: ['read:users'], session_id: 's' };
  const mint = () => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setExpirationTime('1h').sign(privateKey);
  const token = await mint();
  return {
    sign: (seconds) => opsPerSecond(mint, 1, seconds),
    verify: (seconds) => opsPerSecond(() => jwtVerify(token, publicKey), 1, seconds),
  };
}

/**
 * PostgreSQL itself: `SELECT 1`, and a refresh-rotation-shaped transaction (BEGIN; INSERT a row
 * RETURNING id; UPDATE the worker's previous row; COMMIT), pool of 8, 16 workers, in a scratch
 * schema dropped by close().
 */
export async function openPostgresLimits(
  url: string,
): Promise<{ select1(seconds: number): Promise<number>; tx(seconds: number): Promise<number>; close(): Promise<void> }> {
  const schema = `bench_raw_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`CREATE TABLE ${schema}.bench_token (id bigserial PRIMARY KEY, worker int NOT NULL, token text NOT NULL,
    revoked boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now())`);
  const pool = new pg.Pool({ connectionString: url, max: 8, options: `-c search_path=${schema}` });
  const last = new Map<number, string>();
  let worker = 0;
  const tx = async () => {
    const w = worker++ % 16;
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const { rows } = await c.query('INSERT INTO bench_token (worker, token) VALUES ($1, $2) RETURNING id', [
        w,
        randomBytes(16).toString('hex'),
      ]);
      if (last.has(w)) await c.query('UPDATE bench_token SET revoked = true WHERE id = $1', [last.get(w)]);
      await c.query('COMMIT');
      last.set(w, rows[0].id);
    } finally {
      c.release();
    }
  };
  return {
    select1: (seconds) => opsPerSecond(() => pool.query('SELECT 1'), 16, seconds),
    tx: (seconds) => opsPerSecond(tx, 16, seconds),
    close: async () => {
      await pool.end();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}
