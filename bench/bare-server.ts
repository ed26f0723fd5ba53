import http from 'node:http';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { AuthService } from '../gen/sso/auth/v1/auth_service_pb.js';

/**
 * The raw limit for RPC benchmarks: connect-node answering a unary call with no interceptors,
 * no database and no crypto, on the same kind of listener.
 */
const handler = connectNodeAdapter({
  routes: (router) => router.service(AuthService, { getMe: () => ({ user: { id: 'bare', isActive: true } }) }),
  fallback: (_req, res) => {
    res.writeHead(200);
    res.end('ok');
  },
});
http.createServer(handler).listen(Number(process.env.PORT), '127.0.0.1');
