import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateApiKey, parseApiKey, safeEqualHex, sha256Hex } from '../../src/auth/secrets.js';

test('sha256Hex matches a known vector', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('safeEqualHex', () => {
  const h = sha256Hex('x');
  assert.equal(safeEqualHex(h, sha256Hex('x')), true);
  assert.equal(safeEqualHex(h, h.toUpperCase()), true);
  assert.equal(safeEqualHex(h, sha256Hex('y')), false);
  assert.equal(safeEqualHex(h, h.slice(0, -2)), false); // length mismatch, no throw
  assert.equal(safeEqualHex(h, ''), false);
  assert.equal(safeEqualHex('', ''), false);
  // Buffer.from('zz', 'hex') is empty; make sure junk never matches junk.
  assert.equal(safeEqualHex('zz', 'yy'), false);
  assert.equal(safeEqualHex('zz', 'zz'), false);
});

test('generateApiKey format', () => {
  const key = generateApiKey('svc');
  assert.match(key.id, /^[a-z0-9]{12}$/);
  assert.match(key.secret, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(key.secret, 'base64url').length, 32);
  assert.equal(key.plaintext, `sso_svc_${key.id}_${key.secret}`);
  assert.equal(key.displayPrefix, `sso_svc_${key.id}`);
  assert.equal(key.hash, sha256Hex(key.plaintext));
  assert.equal(key.plaintext.startsWith(key.displayPrefix), true);
  assert.equal(key.displayPrefix.includes(key.secret), false);
  assert.deepEqual(parseApiKey(key.plaintext), { kind: 'svc', id: key.id });
});

test('generateApiKey entropy: ids and secrets do not repeat and use the whole alphabet', () => {
  const keys = Array.from({ length: 500 }, () => generateApiKey('user'));
  assert.equal(new Set(keys.map((k) => k.id)).size, keys.length);
  assert.equal(new Set(keys.map((k) => k.secret)).size, keys.length);
  const idChars = new Set(keys.flatMap((k) => [...k.id]));
  assert.equal(idChars.size, 36);
  // Every key parses back (secrets containing '_' or '-' included).
  for (const k of keys) assert.deepEqual(parseApiKey(k.plaintext), { kind: 'user', id: k.id });
});

test('generateApiKey refuses kinds that would break the format', () => {
  for (const kind of ['', 'has_underscore', 'Upper', '1abc', 'a'.repeat(17), 'sp ace']) {
    assert.throws(() => generateApiKey(kind), /kind/, kind);
  }
});

test('parseApiKey rejects anything malformed without throwing', () => {
  const { plaintext, id, secret } = generateApiKey('svc');
  const bad: unknown[] = [
    '',
    'sso_',
    plaintext.slice(0, -1), // secret too short
    `${plaintext}A`, // secret too long
    plaintext.replace('sso_', 'sos_'),
    plaintext.replace(`_${id}_`, `_${id.slice(1)}_`), // id too short
    plaintext.replace(`_${id}_`, `_${id.toUpperCase().replace(/[0-9]/g, 'A')}_`), // uppercase id
    `sso_svc_${id}_${secret.slice(0, -1)}!`,
    `sso__${id}_${secret}`,
    ` ${plaintext}`,
    `${plaintext}\n`,
    'eyJhbGciOiJFUzI1NiJ9.e30.sig',
    'x'.repeat(10_000),
    null,
    undefined,
    42,
    {},
  ];
  for (const value of bad) assert.equal(parseApiKey(value as string), null, JSON.stringify(value));
});

test('parseApiKey rejects a non-canonical secret encoding', () => {
  // 43 base64url chars carry 258 bits; the last char must have its low 2 bits zero.
  const { id } = generateApiKey('svc');
  const canonical = `${'A'.repeat(42)}A`;
  const nonCanonical = `${'A'.repeat(42)}B`;
  assert.notEqual(parseApiKey(`sso_svc_${id}_${canonical}`), null);
  assert.equal(parseApiKey(`sso_svc_${id}_${nonCanonical}`), null);
});
