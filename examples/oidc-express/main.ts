// Starts the OpenID Connect example (see app.ts) against a server started with `npm start`:
//
//   CLIENT_ID=... CLIENT_SECRET=... npx tsx examples/oidc-express/main.ts
//
// Register the app first (README, "Add single sign-on to your app") with the redirect URI
// `http://localhost:3000/callback` and the post-logout redirect URI `http://localhost:3000/`, and
// assign the users who may sign in to it. Then open http://localhost:3000.
//
// Environment: SSO_URL (default http://localhost:8000; it must be the server's issuer, SSO_ISSUER),
// CLIENT_ID (required), CLIENT_SECRET (a confidential client's; leave it unset for a public
// client), PORT (default 3000), HOST (default 127.0.0.1), BASE_URL (default http://localhost:PORT:
// the address the browser uses for this app).
import type { AddressInfo } from 'node:net';
import { createOidcApp } from './app.js';

const clientId = process.env.CLIENT_ID;
if (!clientId) {
  console.error('Set CLIENT_ID (and CLIENT_SECRET for a confidential client): see README, "Add single sign-on to your app".');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 3000);
const app = await createOidcApp({
  ssoUrl: process.env.SSO_URL ?? 'http://localhost:8000',
  clientId,
  clientSecret: process.env.CLIENT_SECRET || undefined,
  baseUrl: process.env.BASE_URL ?? `http://localhost:${port}`,
});

const server = app.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  const { port: bound } = server.address() as AddressInfo;
  const base = process.env.BASE_URL ?? `http://localhost:${bound}`;
  console.log(`OpenID Connect example listening on ${base} (redirect URI ${base}/callback)`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
