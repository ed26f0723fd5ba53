import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import net, { type Socket } from 'node:net';

export type RequestHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

export interface Listener {
  server: net.Server;
  /** Stops accepting, lets in-flight requests finish for up to graceMs, then cuts what is left. */
  close(graceMs: number): Promise<void>;
  inFlight(): number;
}

const http2Preface = Buffer.from('PRI * HTTP/2.0');

export interface ListenerTimeouts {
  /** How long a client may take to send its request headers (HTTP/1.1); Node's default is 60 s. */
  headersTimeoutMs?: number;
  /** How long a new connection may stay silent before its protocol is known. */
  firstBytesTimeoutMs?: number;
}

/**
 * One port for every protocol. Node's cleartext HTTP/2 server cannot also speak HTTP/1.1, so the
 * listener reads the first bytes of each connection: the HTTP/2 connection preface goes to the
 * HTTP/2 server (gRPC with prior knowledge, h2c Connect and REST), anything else to the HTTP/1.1
 * server. With TLS, ALPN makes that choice instead.
 */
export function createListener(handler: RequestHandler, tls?: { cert: string; key: string }, timeouts: ListenerTimeouts = {}): Listener {
  const headersTimeout = timeouts.headersTimeoutMs ?? 60_000;
  const firstBytesTimeout = timeouts.firstBytesTimeoutMs ?? headersTimeout;
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  let active = 0;
  let closing = false;
  const idleWaiters: Array<() => void> = [];

  const h1InFlight = new Set<http.ServerResponse>();
  const counted: RequestHandler = (req, res) => {
    active++;
    if (res instanceof http.ServerResponse) h1InFlight.add(res);
    res.on('close', () => {
      active--;
      if (res instanceof http.ServerResponse) h1InFlight.delete(res);
      if (closing && res instanceof http.ServerResponse) res.socket?.destroySoon?.();
      if (active === 0) idleWaiters.splice(0).forEach((wake) => wake());
    });
    if (closing && res instanceof http.ServerResponse) res.setHeader('connection', 'close');
    handler(req, res);
  };

  const h2 = tls
    ? http2.createSecureServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), allowHTTP1: true }, counted)
    : http2.createServer({}, counted);
  const h1 = http.createServer(
    {
      keepAliveTimeout: 5000,
      headersTimeout,
      requestTimeout: Math.max(300_000, headersTimeout),
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(headersTimeout / 4))),
    },
    counted,
  );
  h2.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });

  let server: net.Server;
  if (tls) {
    server = h2 as unknown as net.Server;
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  } else {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      // A connection that never says which protocol it speaks is not kept forever.
      const silent = () => socket.destroy();
      socket.setTimeout(firstBytesTimeout, silent);
      let seen = Buffer.alloc(0);
      socket.once('readable', function sniff() {
        const chunk: Buffer | null = socket.read();
        if (chunk !== null) seen = Buffer.concat([seen, chunk]);
        // Too few bytes to tell yet ("P" starts both the preface and "PUT"/"POST"): wait for more.
        if (seen.length < http2Preface.length && http2Preface.subarray(0, seen.length).equals(seen)) {
          socket.once('readable', sniff);
          return;
        }
        socket.setTimeout(0);
        socket.removeListener('timeout', silent);
        socket.unshift(seen);
        const isHttp2 = seen.subarray(0, http2Preface.length).equals(http2Preface);
        (isHttp2 ? h2 : h1).emit('connection', socket);
      });
    });
    // The HTTP/1.1 server never listens itself, and Node only starts enforcing headersTimeout and
    // requestTimeout (and tracking connections for closeIdleConnections) on 'listening'.
    server.on('listening', () => h1.emit('listening'));
  }

  return {
    server,
    inFlight: () => active,
    async close(graceMs) {
      closing = true;
      // Calls already running tell their HTTP/1.1 clients not to reuse the connection.
      for (const res of h1InFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      if (active > 0) {
        await Promise.race([
          new Promise<void>((resolve) => idleWaiters.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      for (const socket of sockets) socket.destroy();
      // Stops the HTTP/1.1 server's connection-checking timer (it never listened: the error is expected).
      h1.close(() => {});
      await stopped;
    },
  };
}
