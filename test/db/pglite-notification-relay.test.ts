// The embedded socket's notification relay, on its own: which connections listen, and finding
// NotificationResponse messages in a backend's answer however it is cut into chunks. (Over a real
// socket and PGlite: test/server/cross-instance-revocation.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PGliteNotificationRelay } from '../../src/db/pglite-notification-relay.js';

const encoder = new TextEncoder();

/** A backend message: type byte, int32 length (itself included), body. */
function message(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, body.length + 4);
  out.set(body, 5);
  return out;
}

const cstring = (s: string) => [...encoder.encode(s), 0];
const query = (sql: string) => message('Q', new Uint8Array(cstring(sql)));
const notification = (channel: string, payload: string) =>
  message('A', new Uint8Array([0, 0, 0, 42, ...cstring(channel), ...cstring(payload)]));
const concat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));

function listening(relay: PGliteNotificationRelay, handlerId: number, sql: string): Uint8Array[] {
  const got: Uint8Array[] = [];
  relay.sent(handlerId, query(sql), (data) => got.push(data));
  return got;
}

describe('PGliteNotificationRelay', () => {
  test('a notification in any answer reaches the connections listening on its channel, cut anywhere', () => {
    const a = notification('sso_standing', 'k:1 public');
    const answer = concat(message('C', new Uint8Array(cstring('UPDATE 1'))), a, message('Z', new Uint8Array([0x49])));
    for (let cut = 0; cut <= answer.length; cut++) {
      const relay = new PGliteNotificationRelay();
      const got = listening(relay, 1, 'LISTEN sso_standing');
      const other = listening(relay, 2, 'LISTEN "Other"');
      const passed: Uint8Array[] = [];
      const write = relay.answering(3, (data) => passed.push(data));
      write(answer.subarray(0, cut));
      write(answer.subarray(cut));
      assert.deepEqual(concat(...passed), answer, 'the committer gets its answer unchanged');
      assert.deepEqual(got, [a], `cut at ${cut}`);
      assert.deepEqual(other, []);
    }
  });

  test('not to the connection that committed, nor after UNLISTEN or disconnect', () => {
    const relay = new PGliteNotificationRelay();
    const one = listening(relay, 1, 'listen sso_standing;');
    const two = listening(relay, 2, 'LISTEN sso_standing');
    const three = listening(relay, 3, 'LISTEN SSO_STANDING');
    relay.answering(1, () => {})(notification('sso_standing', 'x'));
    assert.equal(one.length, 0);
    assert.equal(two.length, 1);
    assert.equal(three.length, 1, 'unquoted names fold to lower case');
    relay.sent(2, query('UNLISTEN *'), () => {});
    relay.forget(3);
    relay.answering(1, () => {})(notification('sso_standing', 'y'));
    assert.equal(two.length, 1);
    assert.equal(three.length, 1);
  });

  test('other statements are not taken for LISTEN', () => {
    const relay = new PGliteNotificationRelay();
    for (const sql of ['SELECT 1', "SELECT 'LISTEN x'", 'LISTEN x; SELECT 1', 'UPDATE t SET a = 1']) {
      const got = listening(relay, 1, sql);
      relay.answering(2, () => {})(notification('x', 'p'));
      assert.equal(got.length, 0, sql);
    }
  });
});
