// What the signed-in principal may do, read from the same declarations the server enforces:
// each RPC's `(sso.options.v1.access)` option in the generated descriptors, and USSO's scope
// ladder from src/domain/scopes.ts. The console only hides what would be refused; the server
// still decides every call (and the console shows its reason when it refuses).
import { getOption, hasOption, type DescMethod } from '@bufbuild/protobuf';
import { access } from '../../../gen/sso/options/v1/options_pb.js';
import type { User } from '../../../gen/sso/directory/v1/user_pb.js';
import { hasScope } from '../../domain/scopes.js';

/**
 * Whether `me` may call `method`. `onSelf`: the call acts on the caller's own data, which
 * `self` RPCs allow without their permission.
 */
export function may(me: Pick<User, 'isAdmin' | 'scopes'> | undefined, method: DescMethod, onSelf = false): boolean {
  if (!me || !hasOption(method, access)) return false;
  const rule = getOption(method, access);
  if (rule.public || me.isAdmin) return true;
  if (rule.admin) return false;
  if (rule.permission && hasScope(me.scopes, rule.permission)) return true;
  // `self_field`: acting on one's own data needs no permission either.
  if (rule.selfField && onSelf) return true;
  return rule.self && (!rule.permission || onSelf);
}

/** The scope an RPC needs, for telling people why something is not offered. */
export function permissionOf(method: DescMethod): string {
  if (!hasOption(method, access)) return 'nobody';
  const rule = getOption(method, access);
  return rule.admin ? 'administrators' : rule.permission || (rule.self ? 'yourself' : 'anyone');
}
