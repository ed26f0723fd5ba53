import type { IncomingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 7.6.1) and others that describe one HTTP message, not the call. */
const notForwarded = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'expect',
  // The RPC would otherwise negotiate a compressed answer we would have to undo.
  'accept-encoding',
]);

function forwardable(name: string): boolean {
  return !(
    name.startsWith(':') || // HTTP/2 pseudo-headers
    notForwarded.has(name) ||
    name.startsWith('content-') ||
    name.startsWith('connect-') || // the Connect protocol headers are ours to set
    name.startsWith('grpc-')
  );
}

/**
 * The headers the RPC handler sees for a REST call: the client's (credentials,
 * cookies, user agent, forwarding and request ids, origin, ...), less
 * hop-by-hop and content headers, plus the Connect unary protocol headers for
 * a binary protobuf request.
 */
export function handlerRequestHeaders(incoming: IncomingHttpHeaders): Headers {
  const header = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || !forwardable(name)) continue;
    try {
      if (Array.isArray(value)) for (const v of value) header.append(name, v);
      else header.set(name, value);
    } catch {
      // A value fetch's Headers refuses (it is stricter than Node's parser): drop it.
    }
  }
  const authority = incoming[':authority'];
  if (!header.has('host') && typeof authority === 'string') {
    try {
      header.set('host', authority);
    } catch {
      /* ignore */
    }
  }
  header.set('content-type', 'application/proto');
  header.set('connect-protocol-version', '1');
  return header;
}

/** Response headers of the handler that a REST answer must not copy. */
function copyable(name: string): boolean {
  return !(
    name.startsWith('content-') ||
    name.startsWith('connect-') ||
    name.startsWith('grpc-') ||
    name.startsWith('trailer-') || // Connect's unary encoding of trailers
    notForwarded.has(name) ||
    name === 'date'
  );
}

/** The handler's response headers (e.g. `set-cookie`, `retry-after`, `x-request-id`) for the REST answer. */
export function restResponseHeaders(header: Headers | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!header) return out;
  header.forEach((value, name) => {
    if (name === 'set-cookie' || !copyable(name)) return;
    out[name] = value;
  });
  const cookies = header.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}
