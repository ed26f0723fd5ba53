/**
 * The client entry point (`sso/client`): typed clients for the six SSO services, built from a base
 * URL and a transport, with a bearer token or an API key attached to every call. This is the Node
 * variant; bundlers targeting browsers pick `./web.ts` through the `browser` export condition, and
 * `sso/client/web` names it explicitly.
 */
export * from './node.js';
