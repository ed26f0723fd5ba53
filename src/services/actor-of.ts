import type { HandlerContext } from '@connectrpc/connect';
import type { Actor } from '../domain/directory/actor.js';
import { holds } from '../interceptors/authorization.js';
import { principalOf } from '../interceptors/call-context.js';

/**
 * The caller as the domain's rules see it: the principal the authentication interceptor
 * established, and "holds a permission" with the one definition the authorization interceptor
 * uses (administrators hold every one).
 */
export function actorOf(ctx: HandlerContext): Actor {
  const principal = principalOf(ctx);
  return { principal, may: (permission) => holds(principal, permission) };
}
