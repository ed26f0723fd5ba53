// Starts the Express example (see app.ts):
//
//   npx tsx examples/express/main.ts
//
// Environment: SSO_URL (default http://localhost:8000; the JWKS is read from it), SSO_ISSUER
// (default SSO_URL), AUDIENCE (default your-app: start the server with
// SSO_ALLOWED_AUDIENCES=your-app and log in with "audience": "your-app"), PORT (default 3000).
import type { AddressInfo } from 'node:net';
import { createProtectedApp } from './app.js';

const ssoUrl = (process.env.SSO_URL ?? 'http://localhost:8000').replace(/\/+$/, '');
const app = createProtectedApp({
  jwksUri: `${ssoUrl}/.well-known/jwks.json`,
  issuer: process.env.SSO_ISSUER ?? ssoUrl,
  audience: process.env.AUDIENCE ?? 'your-app',
});

const server = app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as AddressInfo;
  console.log(`Express example listening on http://${address}:${port} (GET /protected, GET /protected-jose)`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close());
