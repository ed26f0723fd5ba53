import type { AppDescription, ClientType } from '../../db/repositories/apps.js';
import { AppError } from '../../errors/index.js';
import { knownOidcScopes } from '../oidc/clients.js';

/** An app's descriptive fields, checked and normalized; an empty audience means: derive one (see defaultAudience). */
export type AppFields = AppDescription;

/** The fields as a caller sends them: the client type is still free text ('' for the default). */
export type AppInput = Omit<AppFields, 'clientType'> & { clientType: string };

const clientTypes: readonly ClientType[] = ['confidential', 'public'];
/** What an app may ask for when nobody chose: the migration's column default, kept in step. */
export const defaultAllowedScopes = ['openid', 'profile', 'email', 'offline_access'];
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

const maxName = 200;
const maxUrl = 2048;
const maxAudience = 255;
const maxList = 100;
// An audience is compared byte for byte by every JWT library: printable ASCII, no spaces.
const audiencePattern = /^[\x21-\x7e]+$/;

function invalid(message: string): never {
  throw new AppError('INVALID_ARGUMENT', message);
}

export function checkName(raw: string): string {
  const name = raw.trim();
  if (name === '' || name.length > maxName) invalid(`name must be 1 to ${maxName} characters.`);
  return name;
}

function parseUrl(raw: string, what: string): URL {
  if (raw.length > maxUrl) invalid(`${what} is longer than ${maxUrl} characters.`);
  try {
    return new URL(raw);
  } catch {
    return invalid(`${what} is not an absolute URL.`);
  }
}

/** The app's address: empty, or an absolute http(s) URL. */
export function checkUrl(raw: string): string {
  const text = raw.trim();
  if (text === '') return '';
  const url = parseUrl(text, 'url');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid('url must be an http or https URL.');
  return text;
}

/**
 * Where a client may send the browser back to (redirect_uris, post_logout_redirect_uris): absolute
 * URLs, compared exactly later, so kept as written. RFC 9700 (OAuth 2.0 Security BCP): https, or
 * plain http only to the loopback interface (native apps, RFC 8252); no fragment (the response
 * would mix with it); no user:password@ (it hides the real host from people reading the URL).
 * Only the URIs an app lists are checked: an app without any keeps working as before.
 */
function checkClientUris(list: string[], field: string): string[] {
  if (list.length > maxList) invalid(`${field} has more than ${maxList} entries.`);
  return [
    ...new Set(
      list.map((raw, i) => {
        const text = raw.trim();
        const url = parseUrl(text, `${field}[${i}]`);
        if (url.hash !== '' || text.includes('#')) invalid(`${field}[${i}] must not have a fragment.`);
        const loopback = url.protocol === 'http:' && loopbackHosts.has(url.hostname);
        if (url.protocol !== 'https:' && !loopback) {
          invalid(`${field}[${i}] must be an https URL (plain http only for localhost, 127.0.0.1 or [::1]).`);
        }
        if (url.username !== '' || url.password !== '') invalid(`${field}[${i}] must not contain a user name or password.`);
        return text;
      }),
    ),
  ];
}

export function checkRedirectUris(list: string[]): string[] {
  return checkClientUris(list, 'redirect_uris');
}

export function checkPostLogoutRedirectUris(list: string[]): string[] {
  return checkClientUris(list, 'post_logout_redirect_uris');
}

export function checkClientType(raw: string): ClientType {
  const type = clientTypes.find((t) => t === raw.trim());
  if (!type) invalid(`client_type must be "confidential" or "public", not "${raw.slice(0, 40)}".`);
  return type;
}

/** Scopes an app may ask for: known OpenID Connect scopes only; none listed means the default set. */
export function checkAllowedScopes(list: string[]): string[] {
  const known: readonly string[] = knownOidcScopes;
  const scopes = [...new Set(list.map((s) => s.trim()))];
  const unknown = scopes.find((s) => !known.includes(s));
  if (unknown !== undefined) {
    invalid(`allowed_scopes: "${unknown.slice(0, 40)}" is not a known scope (${known.join(', ')}).`);
  }
  return scopes.length > 0 ? scopes : [...defaultAllowedScopes];
}

/** Browser origins, normalized to `scheme://host[:port]` as browsers send them. */
export function checkAllowedOrigins(list: string[]): string[] {
  if (list.length > maxList) invalid(`allowed_origins has more than ${maxList} entries.`);
  return [
    ...new Set(
      list.map((raw, i) => {
        const url = parseUrl(raw.trim(), `allowed_origins[${i}]`);
        const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
        if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
          invalid(`allowed_origins[${i}] must be an origin such as https://app.example.com.`);
        }
        return url.origin;
      }),
    ),
  ];
}

/**
 * An explicit audience. The server's own default audience is refused: tokens for it are the ones
 * every login gets, so an app using it would accept tokens minted for anyone.
 */
export function checkAudience(raw: string, serverAudience: string): string {
  const audience = raw.trim();
  if (audience === '' || audience.length > maxAudience || !audiencePattern.test(audience)) {
    invalid(`audience must be 1 to ${maxAudience} printable characters without spaces.`);
  }
  if (audience === serverAudience) invalid(`audience "${audience}" is the server's own default audience.`);
  return audience;
}

/** The slug of a name: lower-case letters and digits joined by single dashes ("Open Project" -> "open-project"). */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** The audience of an app registered without one: its name's slug, else its id. */
export function defaultAudience(name: string, id: string, serverAudience: string): string {
  const slug = slugify(name);
  return slug !== '' && slug !== serverAudience ? slug : id;
}

export function checkAppFields(input: AppInput, serverAudience: string): AppFields {
  return {
    name: checkName(input.name),
    url: checkUrl(input.url),
    description: input.description.trim(),
    audience: input.audience.trim() === '' ? '' : checkAudience(input.audience, serverAudience),
    redirectUris: checkRedirectUris(input.redirectUris),
    allowedOrigins: checkAllowedOrigins(input.allowedOrigins),
    clientType: input.clientType.trim() === '' ? 'confidential' : checkClientType(input.clientType),
    postLogoutRedirectUris: checkPostLogoutRedirectUris(input.postLogoutRedirectUris),
    allowedScopes: checkAllowedScopes(input.allowedScopes),
  };
}
