import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PasswordHasher, bcryptCost } from '../../src/auth/passwords.js';

const hasher = new PasswordHasher(4);

test('hash then verify accepts the right password and rejects a wrong one', async () => {
  const hash = await hasher.hash('correct horse battery staple');
  assert.match(hash, /^\$2b\$04\$/);
  assert.deepEqual(await hasher.verify('correct horse battery staple', hash), { ok: true, needsRehash: false });
  assert.deepEqual(await hasher.verify('correct horse battery stapler', hash), { ok: false, needsRehash: false });
});

test('hashes are salted', async () => {
  assert.notEqual(await hasher.hash('same'), await hasher.hash('same'));
});

test('a hash made at another cost needs rehash once verified', async () => {
  const old = await new PasswordHasher(5).hash('pw');
  assert.equal(bcryptCost(old), 5);
  assert.deepEqual(await hasher.verify('pw', old), { ok: true, needsRehash: true });
  // A failed login never asks for a rehash.
  assert.deepEqual(await hasher.verify('nope', old), { ok: false, needsRehash: false });
});

test('unknown user (null/undefined hash) and malformed hashes fail', async () => {
  assert.deepEqual(await hasher.verify('pw', null), { ok: false, needsRehash: false });
  assert.deepEqual(await hasher.verify('pw', undefined), { ok: false, needsRehash: false });
  assert.deepEqual(await hasher.verify('pw', ''), { ok: false, needsRehash: false });
  assert.deepEqual(await hasher.verify('pw', 'not-a-bcrypt-hash'), { ok: false, needsRehash: false });
});

test('an unknown user costs about as much as a wrong password', async () => {
  const slow = new PasswordHasher(8);
  const stored = await slow.hash('the real password');
  await slow.verify('warm up', null); // first call computes the cached dummy hash
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const wrong: number[] = [];
  const unknown: number[] = [];
  for (let i = 0; i < 7; i++) {
    wrong.push(await time(() => slow.verify('wrong password', stored)));
    unknown.push(await time(() => slow.verify('wrong password', null)));
  }
  const ratio = median(unknown) / median(wrong);
  assert.ok(ratio > 0.3 && ratio < 3, `unknown/wrong time ratio ${ratio.toFixed(2)} out of range`);
});

test('passwords over 72 UTF-8 bytes are refused', async () => {
  const ascii72 = 'a'.repeat(72);
  const ascii73 = 'a'.repeat(73);
  // 24 three-byte characters = 72 bytes fits; one more byte does not.
  const multibyte72 = '€'.repeat(24);
  const multibyte73 = `${'€'.repeat(24)}a`;
  await assert.doesNotReject(hasher.hash(ascii72));
  await assert.doesNotReject(hasher.hash(multibyte72));
  await assert.rejects(hasher.hash(ascii73), RangeError);
  await assert.rejects(hasher.hash(multibyte73), RangeError);
  // 25 characters but 75 bytes: the limit is bytes, not characters.
  await assert.rejects(hasher.hash('€'.repeat(25)), RangeError);

  // Without the check, bcrypt would accept anything sharing the 72-byte prefix.
  const hash = await hasher.hash(ascii72);
  assert.deepEqual(await hasher.verify(ascii72, hash), { ok: true, needsRehash: false });
  assert.deepEqual(await hasher.verify(`${ascii72}extra`, hash), { ok: false, needsRehash: false });
});

test('NUL bytes are significant', async () => {
  const hash = await hasher.hash('abc\0def');
  assert.equal((await hasher.verify('abc\0def', hash)).ok, true);
  assert.equal((await hasher.verify('abc\0xyz', hash)).ok, false);
  assert.equal((await hasher.verify('abc', hash)).ok, false);
});

test('cost must be a sane integer', () => {
  assert.throws(() => new PasswordHasher(3), RangeError);
  assert.throws(() => new PasswordHasher(32), RangeError);
  assert.throws(() => new PasswordHasher(10.5), RangeError);
});
