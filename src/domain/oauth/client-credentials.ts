import { AppError } from '../../errors/index.js';

/** The client's id and secret, from HTTP Basic (client_secret_basic) or the form (client_secret_post). */
export interface ClientCredentials {
  id: string;
  secret: string;
  viaBasic: boolean;
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/**
 * RFC 6749 section 2.3.1: Basic credentials are the form-encoded id and secret, joined by ":".
 * A client uses one method only; sending both is refused.
 */
export function clientCredentialsOf(authorization: string | null, form: { clientId: string; clientSecret: string }): ClientCredentials {
  const basic = authorization ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization) : null;
  if (!basic) return { id: form.clientId, secret: form.clientSecret, viaBasic: false };
  if (form.clientSecret)
    throw new AppError('INVALID_ARGUMENT', 'Send the client credentials once: in the Authorization header or in the body.');
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  try {
    if (colon < 0) throw new Error('no colon');
    const id = formDecode(decoded.slice(0, colon));
    if (form.clientId && form.clientId !== id) throw new Error('two client ids');
    return { id, secret: formDecode(decoded.slice(colon + 1)), viaBasic: true };
  } catch {
    throw new AppError('INVALID_CLIENT', 'The Authorization header does not carry Basic client credentials.', {
      'www-authenticate': 'Basic realm="sso"',
    });
  }
}
