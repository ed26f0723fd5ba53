// A Node backend calling the SSO services over gRPC (HTTP/2) with the generated, typed clients:
// log in, ask who it is, list its sessions.
//
//   npx tsx examples/node-grpc/main.ts
//
// Environment: SSO_URL (default http://localhost:8000), SSO_IDENTIFIER, SSO_SECRET; the user is
// registered on first use (`register: true` logs in when the identifier exists).
import { Code, ConnectError } from '@connectrpc/connect';
import { createSsoClients } from 'sso/client';

const baseUrl = process.env.SSO_URL ?? 'http://localhost:8000';
const identifier = process.env.SSO_IDENTIFIER ?? 'user@example.com';
const secret = process.env.SSO_SECRET ?? 'SecurePassword123!';

const sso = createSsoClients({ baseUrl, transport: 'grpc' });

try {
  const login = await sso.auth.login({ identifier, secret, register: true });
  console.log(`Session: ${login.sessionId} (token expires in ${login.expiresIn} s)`);
  // From here on every call on every service presents the token.
  sso.setToken(login.accessToken);

  const { user } = await sso.auth.getMe({});
  console.log(`Logged in as: ${user?.identifiers[0]?.identifier} (id ${user?.id}, admin: ${user?.isAdmin})`);

  const sessions = await sso.auth.listSessions({});
  console.log(`Sessions: ${sessions.total}`);
  for (const s of sessions.items) {
    console.log(
      `  ${s.id}${s.current ? ' (this one)' : ''} since ${s.createdAt ? new Date(Number(s.createdAt.seconds) * 1000).toISOString() : '?'}`,
    );
  }
} catch (err) {
  const e = ConnectError.from(err);
  console.error(`SSO call failed: ${Code[e.code]}: ${e.rawMessage}`);
  process.exitCode = 1;
}
