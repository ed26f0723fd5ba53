// POST /verify does not tell through its response time whether a username exists: an unknown
// user costs one bcrypt compare at the configured cost, as a wrong password does. Measured as
// medians over interleaved tries, at bcrypt cost 8 so the hash dominates, with a tolerance.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../support/server.js';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

describe('POST /verify timing (bcrypt cost 8)', () => {
  let server: TestServer;
  let apiKey: string;

  async function post(path: string, json: unknown, token?: string): Promise<any> {
    const res = await server.rest(path, { method: 'POST', json, token });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    return body;
  }

  async function timed(username: string, password: string): Promise<number> {
    const started = performance.now();
    const body = await post('/verify', { username, password, api_key: apiKey });
    const elapsed = performance.now() - started;
    assert.deepEqual(body, { authorized: false, message: 'Invalid username or password' });
    return elapsed;
  }

  before(async () => {
    // High limits: this measures the hash, not login protection.
    server = await startTestServer({ bcryptCost: 8, loginMaxFailures: 1000, loginMaxFailuresPerIp: 100000 });
    const admin = (await post('/api/sso/v1/auth/login', { identifier: 'admin@example.com', secret: 'AdminPassword123!', register: true }))
      .access_token;
    apiKey = (await post('/apps/', { name: 'Timed', url: '' }, admin)).api_key;
    const user = (await post('/api/sso/v1/auth/login', { identifier: 'jdoe', secret: 'secretpassword', register: true })).user;
    await post(`/users/${user.legacy_id}/assign/1`, {}, admin);
  });
  after(async () => {
    await server?.stop();
  });

  test('unknown username vs wrong password: medians of 11 interleaved tries, ratio within 0.6..1.6', async () => {
    // Warm up both paths (the dummy hash is computed once per process).
    await timed('nobody', 'wrongpassword');
    await timed('jdoe', 'wrongpassword');
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 11; i++) {
      unknown.push(await timed(`nobody${i}`, 'wrongpassword'));
      wrong.push(await timed('jdoe', `wrongpassword${i}`));
    }
    const u = median(unknown);
    const w = median(wrong);
    assert.ok(w > 5, `bcrypt at cost 8 takes measurable time (${w.toFixed(1)} ms)`);
    // Without the dummy hash an unknown user would answer in a tenth of the time (no bcrypt);
    // the band is wide enough for a busy machine's jitter and far narrower than that.
    const ratio = u / w;
    assert.ok(ratio >= 0.6 && ratio <= 1.6, `unknown ${u.toFixed(1)} ms / wrong ${w.toFixed(1)} ms = ${ratio.toFixed(2)}`);
  });
});
