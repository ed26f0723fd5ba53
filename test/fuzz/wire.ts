import http2 from 'node:http2';

/** What a call answered, reduced to what the fuzz suite judges: HTTP status and RPC code. */
export interface Outcome {
  status: number;
  /** The Connect error code (`invalid_argument`) or gRPC status (`3`); '' when it succeeded. */
  code: string;
  /** The first bytes of the answer, for the failure message. */
  excerpt: string;
}

/** gRPC / gRPC-Web framing: a flags byte, a big-endian length, the message. */
export function envelope(message: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(5 + message.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, message.byteLength);
  out.set(message, 5);
  return out;
}

/** A request over HTTP/1.1 (REST, Connect, gRPC-Web); the Connect code is read from a JSON error body. */
export async function httpCall(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: Uint8Array | string },
): Promise<Outcome> {
  const res = await fetch(url, { method: init.method, headers: init.headers, body: init.body as RequestInit['body'] });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const text = Buffer.from(bytes).toString('latin1');
  let code = '';
  const grpcWebStatus = /grpc-status:\s*(\d+)/i.exec(text);
  if (grpcWebStatus) code = grpcWebStatus[1] === '0' ? '' : grpcWebStatus[1]!;
  else if (res.status >= 400) {
    try {
      const body = JSON.parse(Buffer.from(bytes).toString('utf8')) as { code?: unknown; error?: unknown };
      code = String(body.code ?? body.error ?? '');
    } catch {
      code = '';
    }
  }
  return { status: res.status, code, excerpt: text.slice(0, 200) };
}

/** A gRPC call over HTTP/2 cleartext on a shared session; the status comes from the trailers. */
export function grpcCall(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc+proto',
      te: 'trailers',
      ...headers,
    });
    let status = 0;
    let code = '';
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      // A trailers-only answer carries the status in its headers.
      if (h['grpc-status'] !== undefined) code = String(h['grpc-status']);
    });
    stream.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) code = String(t['grpc-status']);
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () =>
      resolve({ status, code: code === '0' ? '' : code, excerpt: Buffer.concat(chunks).toString('latin1').slice(0, 200) }),
    );
    stream.end(body);
  });
}

/** Codes that mean the server failed rather than refused: Connect names and gRPC numbers. */
export function isServerFailure(o: Outcome): boolean {
  return o.status >= 500 || ['internal', 'unknown', 'data_loss', 'server_error', '2', '13', '15'].includes(o.code);
}

/** Whether the call was refused (so it must have changed nothing). */
export function isRefusal(o: Outcome): boolean {
  return o.status >= 400 || o.code !== '';
}
