import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { IssueTokenRequestSchema } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { checkText } from '../../src/interceptors/text-input.js';
import { AppError } from '../../src/errors/index.js';

// checkText names where a refused string sits only when it refuses one (the path is spelled out
// lazily): the names are the proto's, as callers know them, at any depth.
const refusedWith = (message: string) => (e: unknown) => e instanceof AppError && e.reason === 'INVALID_ARGUMENT' && e.message === message;

test('a refusal names the field in snake_case, through lists, maps and JSON values', () => {
  assert.throws(
    () => checkText(create(IssueTokenRequestSchema, { grantType: 'client_credentials', clientId: 'a\u0000b' })),
    refusedWith('client_id contains a NUL character or an unpaired surrogate.'),
  );
  assert.throws(
    () => checkText(create(IssueTokenRequestSchema, { grantType: 'x', clientSecret: 'y'.repeat(4097) })),
    refusedWith('client_secret is longer than 4096 characters.'),
  );
  assert.throws(
    () => checkText({ $typeName: 'x', someField: [{ $typeName: 'y', innerName: ['ok', 'bad\u0000'] }] }),
    refusedWith('some_field[0].inner_name[1] contains a NUL character or an unpaired surrogate.'),
  );
  assert.throws(
    () => checkText({ $typeName: 'x', mapField: { 'k\u0000': 'v' } }),
    refusedWith('a key of map_field contains a NUL character or an unpaired surrogate.'),
  );
  // Keys of JSON values (a Struct) are the caller's own: kept as sent.
  assert.throws(
    () => checkText({ $typeName: 'x', structField: { a: { b: [1, { cC: '\ud800' }] } } }),
    refusedWith('struct_field.a.b[1].cC contains a NUL character or an unpaired surrogate.'),
  );
  assert.throws(() => checkText({ $typeName: 'x', list: new Array(1001).fill('a') }), refusedWith('list has more than 1000 entries.'));
});

test('storable text of any shape passes', () => {
  checkText(create(IssueTokenRequestSchema, { grantType: 'client_credentials', clientId: 'ü-ñ', scope: 'a b' }));
  checkText({ $typeName: 'x', fine: ['a', 'b'], ok: { x: 1, y: null, z: new Uint8Array(3) } });
});
