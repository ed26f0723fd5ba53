// The permission catalogue (src/domain/access/permissions.ts) and the protos agree: every
// permission an RPC declares is catalogued, every catalogued one is declared by some RPC, and
// every name is in USSO's action:resource form with an action on the ladder.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getOption, hasOption } from '@bufbuild/protobuf';
import { access } from '../../gen/sso/options/v1/options_pb.js';
import { isPermission, permissions } from '../../src/domain/access/permissions.js';
import { services } from '../../src/server/routes.js';

const declared = new Set<string>();
for (const service of services) {
  for (const method of service.methods) {
    if (hasOption(method, access) && getOption(method, access).permission) declared.add(getOption(method, access).permission);
  }
}

test('every permission an RPC declares is in the catalogue', () => {
  const missing = [...declared].filter((p) => !isPermission(p));
  assert.deepEqual(missing, []);
});

test('every catalogued permission is declared by some RPC', () => {
  const unused = permissions.filter((p) => !declared.has(p));
  assert.deepEqual(unused, []);
});

test('names are action:resource with an action on the ladder, each once', () => {
  assert.equal(new Set(permissions).size, permissions.length);
  for (const p of permissions) assert.match(p, /^(read|create|update|delete|manage|admin):[a-z]+$/, p);
});
