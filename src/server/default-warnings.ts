import { loadKeySecret } from '../auth/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/**
 * Defaults that work for one development instance but break a real deployment quietly are said
 * out loud at start, once per server: by its one process, or by the primary of several
 * (SSO_WORKERS), whose workers say none of them (startApp's sayDefaults).
 */
export function warnAboutDefaults(config: Config, log: Logger): void {
  if (config.issuerIsDefault) {
    log.warn(
      { issuer: config.issuer },
      `SSO_ISSUER is not set: the issuer is derived from the port (${config.issuer}). Instances with different ` +
        "ports or hosts then refuse each other's tokens, and published URLs point at localhost. Set SSO_ISSUER to " +
        'the public URL every instance shares.',
    );
  }
  // Without SSO_KEY_SECRET this makes the development key secret (or reads it) and says so; the
  // server's own read (deps.ts) is silent. Under SSO_WORKERS the primary makes it before any
  // worker starts, so the workers read one file instead of racing to create it.
  loadKeySecret({ configured: config.keySecret, dataDir: config.dataDir, warn: (m) => log.warn(m) });
}
