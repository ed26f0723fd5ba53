/**
 * The SSO server for bench/oidc.ts: `npm start`'s server (configured from the environment as
 * usual), plus a side listener on MINT_PORT (127.0.0.1 only) that mints authorization codes the way
 * the authorization endpoint does (issueCode on the server's own database, under a browser
 * session made as the hosted sign-in page makes it). Codes are minted between measurements, so a
 * run of POST /oauth/token measures the exchange alone.
 *
 *   POST /mint {"clientId", "redirectUri", "userId", "scopes": [...], "challenge", "count"} → {"codes": [...]}
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { sha256Hex } from '../src/auth/index.js';
import { loadConfig } from '../src/config.js';
import { insertSession } from '../src/db/repositories/sessions.js';
import { issueCode } from '../src/domain/oidc/codes.js';
import { startApp } from '../src/server/app.js';

const config = loadConfig();
const app = await startApp(config);
const db = app.database.dataSource;

const mint = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => {
    body += c;
  });
  req.on('end', async () => {
    try {
      const input = JSON.parse(body) as {
        clientId: string;
        redirectUri: string;
        userId: string;
        scopes: string[];
        challenge?: string;
        count: number;
      };
      const browser = randomUUID();
      await insertSession(db, {
        id: browser,
        kind: 'browser',
        userId: input.userId,
        refreshHash: sha256Hex(randomUUID()),
        audience: config.audience,
        workspaceId: null,
        amr: ['password'],
        userAgent: 'bench',
        ip: '127.0.0.1',
        ttlSeconds: 3600,
      });
      const codes: string[] = [];
      for (let i = 0; i < input.count; i++) {
        codes.push(
          await issueCode(db, {
            clientId: input.clientId,
            redirectUri: input.redirectUri,
            codeChallenge: input.challenge,
            scopes: input.scopes,
            userId: input.userId,
            browserSessionId: browser,
          }),
        );
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ codes }));
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
});
mint.listen(Number(process.env.MINT_PORT), '127.0.0.1');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    mint.close();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
