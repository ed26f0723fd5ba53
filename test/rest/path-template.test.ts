import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSpecificity, matchTemplate, parseTemplate } from '../../src/rest/path-template.js';

function vars(template: string, path: string): Record<string, string> | undefined {
  const m = matchTemplate(parseTemplate(template), path);
  return m ? Object.fromEntries(m.variables) : undefined;
}

test('literals and simple variables', () => {
  assert.deepEqual(vars('/api/sso/v1/users', '/api/sso/v1/users'), {});
  assert.equal(vars('/api/sso/v1/users', '/api/sso/v1/users/'), undefined);
  assert.deepEqual(vars('/users/{user_id}', '/users/12'), { user_id: '12' });
  assert.deepEqual(vars('/users/{user_id=*}', '/users/12'), { user_id: '12' });
  assert.equal(vars('/users/{user_id}', '/users/'), undefined, 'a variable never binds an empty segment');
  assert.equal(vars('/users/{user_id}', '/users/1/2'), undefined);
  assert.deepEqual(vars('/users/{user_id}/assign/{app_id}', '/users/1/assign/2'), { user_id: '1', app_id: '2' });
});

test('trailing slash is significant', () => {
  assert.deepEqual(vars('/users/', '/users/'), {});
  assert.equal(vars('/users/', '/users'), undefined);
  assert.equal(vars('/users/', '/users/x'), undefined);
});

test('{var=**}, {var=segment/*}, nested field paths and verbs', () => {
  assert.deepEqual(vars('/files/{path=**}', '/files/a/b/c'), { path: 'a/b/c' });
  assert.equal(vars('/files/{path=**}', '/files/'), undefined);
  assert.deepEqual(vars('/v1/{name=shelves/*/books/*}', '/v1/shelves/1/books/2'), { name: 'shelves/1/books/2' });
  assert.equal(vars('/v1/{name=shelves/*/books/*}', '/v1/shelves/1/cds/2'), undefined);
  assert.deepEqual(vars('/v1/{user.id}', '/v1/u1'), { 'user.id': 'u1' });
  assert.deepEqual(vars('/v1/{name=things/*}:publish', '/v1/things/t:publish'), { name: 'things/t' });
  assert.equal(vars('/v1/{name=things/*}:publish', '/v1/things/t'), undefined);
  assert.deepEqual(vars('/v1/{name=**}:undo', '/v1/a/b:undo'), { name: 'a/b' });
  assert.deepEqual(vars('/v1/items/{id}', '/v1/items/a:b'), { id: 'a:b' }, 'colons are ordinary without a verb');
});

test('percent-decoding of variables; malformed escapes are reported', () => {
  assert.deepEqual(vars('/u/{id}', '/u/a%2Fb%20c'), { id: 'a/b c' });
  const m = matchTemplate(parseTemplate('/u/{id}'), '/u/%zz');
  assert.deepEqual(m?.malformed, ['id']);
});

test('literal beats * beats **; a verb is more specific', () => {
  const sorted = ['/v1/{rest=**}', '/v1/items/{id}', '/v1/items/special', '/v1/{a}/special']
    .map(parseTemplate)
    .sort(compareSpecificity)
    .map((t) => t.source);
  assert.deepEqual(sorted, ['/v1/items/special', '/v1/items/{id}', '/v1/{a}/special', '/v1/{rest=**}']);
  assert.ok(compareSpecificity(parseTemplate('/v1/{id}:archive'), parseTemplate('/v1/{id}')) < 0);
});

test('invalid templates are rejected at parse time', () => {
  for (const bad of ['users', '/users/{id', '/users/{}', '/a/{x=**}/b', '/a//b', '/a/{b}/{b}', '/a/{x={y}}']) {
    assert.throws(() => parseTemplate(bad), /invalid path template/, bad);
  }
});
