import { AppError } from '../errors/index.js';

/**
 * Which audiences a login may ask for: the configured default, the configured allow-list, and
 * (once the app registry has them) registered apps' audiences.
 */
export class Audiences {
  private readonly allowed: Set<string>;
  constructor(readonly defaultAudience: string, allowList: string[], private readonly registered: (aud: string) => Promise<boolean> = async () => false) {
    this.allowed = new Set([defaultAudience, ...allowList]);
  }

  async resolve(requested: string): Promise<string> {
    if (requested === '') return this.defaultAudience;
    if (this.allowed.has(requested) || (await this.registered(requested))) return requested;
    throw new AppError('INVALID_AUDIENCE', `The audience "${requested}" is not a registered or allowed audience.`);
  }
}
