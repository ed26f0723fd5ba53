import { AppError } from '../errors/index.js';

/**
 * Which audiences a login may ask for: the configured default, the configured allow-list, and
 * registered apps' audiences. A registered app's audience also names the app, so the caller can
 * require that the user is assigned to it.
 */
export class Audiences {
  private readonly allowed: Set<string>;
  constructor(
    readonly defaultAudience: string,
    allowList: string[],
    private readonly appFor: (aud: string) => Promise<string | undefined> = async () => undefined,
  ) {
    this.allowed = new Set([defaultAudience, ...allowList]);
  }

  /** The audience to issue, and the registered app it belongs to (when it does). */
  async resolveWithApp(requested: string): Promise<{ audience: string; appId?: string }> {
    if (requested === '' || requested === this.defaultAudience) return { audience: this.defaultAudience };
    const appId = await this.appFor(requested);
    if (appId) return { audience: requested, appId };
    if (this.allowed.has(requested)) return { audience: requested };
    throw new AppError('INVALID_AUDIENCE', `The audience "${requested}" is not a registered or allowed audience.`);
  }

  async resolve(requested: string): Promise<string> {
    return (await this.resolveWithApp(requested)).audience;
  }

  /** The registered app behind an audience already issued (a session's), if any. */
  async appOf(audience: string): Promise<string | undefined> {
    return audience === this.defaultAudience ? undefined : this.appFor(audience);
  }
}
