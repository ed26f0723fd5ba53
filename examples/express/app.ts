// An Express app protecting routes with tokens issued by the SSO server, verified offline against
// its JWKS. `/protected` is the seed's "JavaScript (Express)" integration (jsonwebtoken + jwks-rsa);
// `/protected-jose` does the same with jose's createRemoteJWKSet.
import express, { type NextFunction, type Request, type Response } from 'express';
import jwt, { type GetPublicKeyOrSecret, type JwtPayload } from 'jsonwebtoken';
import jwksClient from 'jwks-rsa';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface ProtectedAppOptions {
  /** e.g. `http://localhost:8000/.well-known/jwks.json` */
  jwksUri: string;
  /** The SSO server's `iss`, e.g. `http://localhost:8000`. */
  issuer: string;
  /** This app's audience, e.g. `your-app` (registered as an app or in SSO_ALLOWED_AUDIENCES). */
  audience: string;
}

type AuthedRequest = Request & { user?: JwtPayload | JWTPayload };

export function createProtectedApp({ jwksUri, issuer, audience }: ProtectedAppOptions): express.Express {
  const app = express();

  const client = jwksClient({ jwksUri });

  const getKey: GetPublicKeyOrSecret = (header, callback) => {
    client.getSigningKey(header.kid, (err, key) => {
      // The seed reads `key` unchecked; an unknown `kid` would then throw outside Express and
      // take the process down, so a lookup failure is passed on (and answered with 401).
      if (err || !key) return callback(err ?? new Error('no signing key'));
      const signingKey = 'publicKey' in key ? key.publicKey : key.rsaPublicKey;
      callback(null, signingKey);
    });
  };

  function verifyToken(req: AuthedRequest, res: Response, next: NextFunction) {
    const token = req.headers.authorization?.split(' ')[1];

    if (!token) {
      return res.status(401).json({ error: 'No token provided' });
    }

    jwt.verify(
      token,
      getKey,
      {
        audience,
        issuer,
      },
      (err, decoded) => {
        if (err) {
          return res.status(401).json({ error: 'Invalid token' });
        }
        req.user = decoded as JwtPayload;
        next();
      },
    );
  }

  // jose fetches and caches the JWKS itself, refetching when a token names an unknown `kid`.
  const jwks = createRemoteJWKSet(new URL(jwksUri));

  async function verifyTokenWithJose(req: AuthedRequest, res: Response, next: NextFunction) {
    const token = req.headers.authorization?.split(' ')[1];
    if (!token) return res.status(401).json({ error: 'No token provided' });
    try {
      const { payload } = await jwtVerify(token, jwks, { audience, issuer });
      req.user = payload;
    } catch {
      return res.status(401).json({ error: 'Invalid token' });
    }
    next();
  }

  const answer = (req: AuthedRequest, res: Response) => {
    res.json({
      message: 'Access granted',
      user_id: req.user?.sub,
      roles: req.user?.roles,
    });
  };
  app.get('/protected', verifyToken, answer);
  app.get('/protected-jose', verifyTokenWithJose, answer);

  return app;
}
