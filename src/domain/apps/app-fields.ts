import type { AppDescription } from '../../db/repositories/apps.js';
import { AppError } from '../../errors/index.js';

/** An app's descriptive fields, checked and normalized; an empty audience means: derive one (see defaultAudience). */
export type AppFields = AppDescription;

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

/** Redirect targets: absolute URLs without a fragment (native apps may use their own scheme). */
export function checkRedirectUris(list: string[]): string[] {
  if (list.length > maxList) invalid(`redirect_uris has more than ${maxList} entries.`);
  return [...new Set(list.map((raw, i) => {
    const url = parseUrl(raw.trim(), `redirect_uris[${i}]`);
    if (url.hash !== '' || raw.includes('#')) invalid(`redirect_uris[${i}] must not have a fragment.`);
    return raw.trim();
  }))];
}

/** Browser origins, normalized to `scheme://host[:port]` as browsers send them. */
export function checkAllowedOrigins(list: string[]): string[] {
  if (list.length > maxList) invalid(`allowed_origins has more than ${maxList} entries.`);
  return [...new Set(list.map((raw, i) => {
    const url = parseUrl(raw.trim(), `allowed_origins[${i}]`);
    const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
      invalid(`allowed_origins[${i}] must be an origin such as https://app.example.com.`);
    }
    return url.origin;
  }))];
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
  return name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 63).replace(/-+$/, '');
}

/** The audience of an app registered without one: its name's slug, else its id. */
export function defaultAudience(name: string, id: string, serverAudience: string): string {
  const slug = slugify(name);
  return slug !== '' && slug !== serverAudience ? slug : id;
}

export function checkAppFields(input: AppFields, serverAudience: string): AppFields {
  return {
    name: checkName(input.name),
    url: checkUrl(input.url),
    description: input.description.trim(),
    audience: input.audience.trim() === '' ? '' : checkAudience(input.audience, serverAudience),
    redirectUris: checkRedirectUris(input.redirectUris),
    allowedOrigins: checkAllowedOrigins(input.allowedOrigins),
  };
}
