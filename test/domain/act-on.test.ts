// The rule of who may act on whom (src/domain/access/act-on.ts), on its own: plain values, no
// database, milliseconds. The escalation matrix (test/security) proves the same rule end to end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkMayActOn, type TargetGrants } from '../../src/domain/access/act-on.js';
import type { Principal } from '../../src/domain/principal.js';
import { AppError } from '../../src/errors/index.js';

const user = (scopes: string[], extra: Partial<Principal> = {}): Principal => ({
  kind: 'user',
  id: 'u-actor',
  isAdmin: false,
  scopes,
  roles: [],
  via: 'access_token',
  ...extra,
});
const target = (scopes: string[], extra: Partial<TargetGrants> = {}): TargetGrants => ({
  kind: 'user',
  id: 'u-target',
  isAdmin: false,
  scopes,
  ...extra,
});

function refusal(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    return e.reason;
  }
}

describe('checkMayActOn', () => {
  test('an administrator may act on anyone, administrators included', () => {
    const admin = user([], { isAdmin: true });
    assert.equal(
      refusal(() => checkMayActOn(admin, target(['*'], { isAdmin: true }))),
      undefined,
    );
    assert.equal(
      refusal(() => checkMayActOn(admin, target(['*'], { kind: 'agent' }))),
      undefined,
    );
  });

  test('only an administrator acts on an administrator, whatever else the caller holds', () => {
    assert.equal(
      refusal(() => checkMayActOn(user(['*']), target([], { isAdmin: true }))),
      'ADMIN_REQUIRED',
    );
  });

  test("a target within the caller's scopes may be acted on; one holding more may not", () => {
    assert.equal(
      refusal(() => checkMayActOn(user(['update:users']), target([]))),
      undefined,
    );
    assert.equal(
      refusal(() => checkMayActOn(user(['update:users']), target(['read:users']))),
      undefined,
      'update implies read',
    );
    assert.equal(
      refusal(() => checkMayActOn(user(['update:users']), target(['delete:users']))),
      'TARGET_EXCEEDS_CALLER',
    );
    assert.equal(
      refusal(() => checkMayActOn(user(['update:*']), target(['read:apps', 'update:users']))),
      undefined,
      'a resource wildcard covers every resource',
    );
    assert.equal(
      refusal(() => checkMayActOn(user(['update:agents']), target(['*'], { kind: 'agent', id: 'a-star' }))),
      'TARGET_EXCEEDS_CALLER',
    );
  });

  test("acting on oneself always passes this rule (what may change is each change's rule)", () => {
    assert.equal(
      refusal(() => checkMayActOn(user([]), target(['delete:users'], { id: 'u-actor' }))),
      undefined,
    );
    const agent: Principal = { kind: 'agent', id: 'a-1', isAdmin: false, scopes: [], roles: [], via: 'access_token' };
    assert.equal(
      refusal(() => checkMayActOn(agent, target(['*'], { kind: 'agent', id: 'a-1' }))),
      undefined,
    );
    assert.equal(
      refusal(() => checkMayActOn(agent, target(['read:users'], { kind: 'user', id: 'a-1' }))),
      'TARGET_EXCEEDS_CALLER',
      'an agent is never a user',
    );
  });

  test('an API key acts with its own (narrowed) scopes', () => {
    const key = user(['read:users'], { via: 'api_key', apiKeyId: 'k' });
    assert.equal(
      refusal(() => checkMayActOn(key, target(['update:users']))),
      'TARGET_EXCEEDS_CALLER',
    );
  });
});
