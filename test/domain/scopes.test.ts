import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hasScope, isValidScope, scopeSatisfies } from '../../src/domain/scopes.js';

const ladder = ['read', 'create', 'update', 'delete', 'manage', 'admin', 'owner'] as const;

describe('scopeSatisfies: the action ladder', () => {
  // Every pair on the ladder: a granted action satisfies exactly the actions at or below it.
  for (const [gi, granted] of ladder.entries()) {
    for (const [ri, required] of ladder.entries()) {
      const expected = gi >= ri;
      test(`${granted}:posts ${expected ? 'satisfies' : 'does not satisfy'} ${required}:posts`, () => {
        assert.equal(scopeSatisfies(`${granted}:posts`, `${required}:posts`), expected);
      });
    }
  }

  test('`*` as an action is the owner: it satisfies every ladder action, and owner satisfies `*`', () => {
    for (const action of ladder) assert.equal(scopeSatisfies('*:posts', `${action}:posts`), true, action);
    assert.equal(scopeSatisfies('owner:posts', '*:posts'), true);
    assert.equal(scopeSatisfies('admin:posts', '*:posts'), false);
    assert.equal(scopeSatisfies('read:posts', '*:posts'), false);
  });
});

type Row = [granted: string, required: string, expected: boolean, why: string];

const rows: Row[] = [
  // Exact match always holds, on or off the ladder.
  ['read:users', 'read:users', true, 'exact'],
  ['write:posts', 'write:posts', true, 'unknown action, exact'],
  ['publish:articles', 'publish:articles', true, 'unknown action, exact'],
  // Resources must match unless the grant's resource is `*`.
  ['read:users', 'read:posts', false, 'other resource'],
  ['admin:users', 'read:posts', false, 'a high action on another resource'],
  ['read:*', 'read:users', true, '`*` resource'],
  ['read:*', 'read:anything-at-all', true, '`*` resource'],
  ['delete:*', 'update:users', true, '`*` resource with a higher action'],
  ['read:*', 'update:users', false, '`*` resource does not raise the action'],
  ['read:users', 'read:*', false, 'a single resource does not satisfy all resources'],
  ['read:user', 'read:users', false, 'no prefix matching of resources'],
  ['read:users', 'read:user', false, 'no prefix matching of resources'],
  // Actions off the ladder match only themselves, in both directions.
  ['write:posts', 'read:posts', false, 'unknown action implies nothing'],
  ['write:posts', 'create:posts', false, 'unknown action implies nothing'],
  ['admin:posts', 'write:posts', false, 'the ladder does not imply an unknown action'],
  ['manage:posts', 'write:posts', false, 'the ladder does not imply an unknown action'],
  ['write:*', 'write:posts', true, 'unknown action, `*` resource'],
  ['write:*', 'read:posts', false, 'unknown action, `*` resource, other action'],
  ['writer:posts', 'write:posts', false, 'no prefix matching of actions'],
  // The owner's scope: `*` alone or `*:*` matches everything.
  ['*', 'read:users', true, 'bare `*`'],
  ['*', 'owner:users', true, 'bare `*`'],
  ['*', 'write:posts', true, 'bare `*` matches any action'],
  ['*:*', 'delete:keys', true, '`*:*`'],
  ['*:*', 'write:posts', true, '`*:*` matches any action'],
  ['*:posts', 'write:posts', true, 'owner of a resource may do anything to it'],
  ['*:posts', 'write:users', false, 'owner of one resource only'],
  // A bare action (no resource) applies to every resource.
  ['read', 'read:users', true, 'bare action = every resource'],
  ['manage', 'delete:sessions', true, 'bare action, higher on the ladder'],
  ['read', 'create:users', false, 'bare action, lower on the ladder'],
  // Case matters: scopes are identifiers.
  ['READ:users', 'read:users', false, 'case-sensitive'],
];

describe('scopeSatisfies: resources, wildcards and actions off the ladder', () => {
  for (const [granted, required, expected, why] of rows) {
    test(`${granted} ${expected ? 'satisfies' : 'does not satisfy'} ${required} (${why})`, () => {
      assert.equal(scopeSatisfies(granted, required), expected);
    });
  }
});

describe('hasScope', () => {
  const cases: [granted: string[], required: string, expected: boolean][] = [
    [[], 'read:users', false],
    [['read:posts', 'write:posts'], 'write:posts', true],
    [['read:posts', 'write:posts'], 'read:posts', true],
    [['read:posts', 'write:posts'], 'create:posts', false],
    [['read:posts', 'write:posts'], 'read:users', false],
    [['read:posts', 'update:users'], 'read:users', true],
    [['read:posts', 'update:users'], 'delete:users', false],
    [['read:*'], 'read:keys', true],
    [['*'], 'manage:keys', true],
  ];
  for (const [granted, required, expected] of cases) {
    test(`[${granted.join(', ')}] ${expected ? 'holds' : 'does not hold'} ${required}`, () => {
      assert.equal(hasScope(granted, required), expected);
    });
  }
});

describe('isValidScope', () => {
  const valid = [
    'read:users',
    'write:posts',
    '*',
    '*:*',
    'read:*',
    'read',
    'manage:api-keys',
    'read:finance/invoices',
    'admin:app.v2',
    'read:user_profiles',
    'a'.repeat(100) + ':' + 'b'.repeat(99),
  ];
  const invalid = [
    '',
    ' ',
    'read users',
    'read:',
    ':users',
    'read:users:extra',
    'read: users',
    'read:users ',
    'read;users',
    'read:us"ers',
    'read:<script>',
    'read:users\n',
    'a'.repeat(100) + ':' + 'b'.repeat(100),
    'lesen:benützer',
  ];
  for (const scope of valid)
    test(`valid: ${JSON.stringify(scope.length > 40 ? `${scope.slice(0, 20)}…(${scope.length})` : scope)}`, () => {
      assert.equal(isValidScope(scope), true);
    });
  for (const scope of invalid)
    test(`invalid: ${JSON.stringify(scope.length > 40 ? `${scope.slice(0, 20)}…(${scope.length})` : scope)}`, () => {
      assert.equal(isValidScope(scope), false);
    });
});
