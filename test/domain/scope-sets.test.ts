// The scope-list arithmetic behind the ceilings of keys and agent tokens: the intersection must
// grant exactly what both lists grant, under USSO's ladder and wildcard rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intersectScopes, isUnrestricted, scopesNotCovered } from '../../src/domain/scopes.js';
import { hasScope } from '../../src/domain/scopes.js';

test('intersections of typical lists', () => {
  assert.deepEqual(intersectScopes(['*'], ['read:users', 'write:posts']), ['read:users', 'write:posts']);
  assert.deepEqual(intersectScopes(['read:users'], ['*']), ['read:users']);
  assert.deepEqual(intersectScopes(['manage:users'], ['read:*']), ['read:users']);
  assert.deepEqual(intersectScopes(['update:users', 'read:agents'], ['read:users']), ['read:users']);
  assert.deepEqual(intersectScopes(['write:posts'], ['read:posts']), [], 'an action off the ladder matches only itself');
  assert.deepEqual(intersectScopes(['read:users'], ['read:agents']), []);
  assert.deepEqual(intersectScopes([], ['*']), []);
  assert.deepEqual(intersectScopes(['*', '*:*'], ['*']), ['*'], 'equivalent scopes are kept once');
});

test('the intersection grants a permission exactly when both lists do', () => {
  const lists = [
    ['*'],
    ['*:users'],
    ['read:*'],
    ['manage:users', 'read:agents'],
    ['update:users'],
    ['write:posts', 'read:posts'],
    ['owner:users'],
    ['delete:*', 'write:posts'],
    [],
  ];
  const permissions = [
    'read:users',
    'update:users',
    'delete:users',
    'owner:users',
    'read:agents',
    'manage:agents',
    'write:posts',
    'read:posts',
    'admin:keys',
  ];
  for (const a of lists) {
    for (const b of lists) {
      const both = intersectScopes(a, b);
      for (const p of permissions) {
        assert.equal(
          hasScope(both, p),
          hasScope(a, p) && hasScope(b, p),
          `${JSON.stringify(a)} ∩ ${JSON.stringify(b)} for ${p}: ${JSON.stringify(both)}`,
        );
      }
    }
  }
});

test('unrestricted lists and uncovered scopes', () => {
  assert.equal(isUnrestricted(['read:users', '*']), true);
  assert.equal(isUnrestricted(['*:*']), true);
  assert.equal(isUnrestricted(['*:users']), false);
  assert.deepEqual(scopesNotCovered(['update:users'], ['read:users', 'delete:users', 'read:agents']), ['delete:users', 'read:agents']);
});
