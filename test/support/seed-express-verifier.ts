import jwt from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';

/**
 * The First Steps seed's Express snippet, verbatim but for the URLs: jsonwebtoken + jwks-rsa.
 * (One difference: a key lookup error is passed on instead of crashing on a missing key.)
 */
export function seedExpressVerifier(jwksUri: string, audience: string, issuer: string) {
  const client = jwksClient({
    jwksUri,
  });
  function getKey(header: jwt.JwtHeader, callback: jwt.SigningKeyCallback) {
    client.getSigningKey(header.kid, (err, key) => {
      if (err || !key) return callback(err ?? new Error('no key'));
      const signingKey = (key as any).publicKey || (key as any).rsaPublicKey;
      callback(null, signingKey);
    });
  }
  return (token: string) =>
    new Promise<{ err: Error | null; decoded: any }>((resolve) => {
      jwt.verify(
        token,
        getKey,
        {
          audience,
          issuer,
        },
        (err, decoded) => resolve({ err, decoded }),
      );
    });
}
