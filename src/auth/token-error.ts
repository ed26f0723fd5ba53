// The one error a token check throws: a small, stable `reason` and a fixed message per reason,
// so neither the library's wording nor the token's contents reach API responses.

export type TokenErrorReason = 'expired' | 'invalid' | 'unknown_key' | 'wrong_type' | 'malformed';

const MESSAGES: Record<TokenErrorReason, string> = {
  expired: 'token has expired',
  invalid: 'token is invalid',
  unknown_key: 'token was signed with an unknown key',
  wrong_type: 'token is not of the expected type',
  malformed: 'token is malformed',
};

export class TokenError extends Error {
  readonly reason: TokenErrorReason;

  // The message is fixed per reason so it is safe to show to clients; what exactly failed is
  // kept only as `cause`, for server logs.
  constructor(reason: TokenErrorReason, options?: { cause?: unknown }) {
    super(MESSAGES[reason], options);
    this.name = 'TokenError';
    this.reason = reason;
  }
}

/** A TokenError whose cause says, for the server's log, which check failed. */
export function tokenError(reason: TokenErrorReason, detail: string): TokenError {
  return new TokenError(reason, { cause: new Error(detail) });
}
