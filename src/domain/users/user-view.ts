import type { UserViewRow } from '../../db/repositories/directory-users.js';

/** A user as every surface shows it: identifiers (primary first) and what it holds. */
export type UserView = UserViewRow;
