import { DataSource } from 'typeorm';
import {
  decryptPrivateKey,
  encryptPrivateKey,
  generateSigningKey,
  importSigningKey,
  importVerifyKey,
  type JWK,
  type KeyLike,
  type SigningAlg,
} from '../../auth/index.js';
import { type SigningKeyRecord, SqlSigningKeys } from '../../db/repositories/signing-keys.js';
import type { SigningKeyRows, SigningKeyStorage } from './key-storage.js';
import { KEY_RELOAD_SECONDS } from './publish-windows.js';

export interface KeyStoreOptions {
  alg: SigningAlg;
  secret: string;
  /** Seconds a rotated-in key is published before it signs. */
  publishDelay: number;
  /** Seconds a retired key stays published: the longest life of a token it signed. */
  retention: number;
  /** The time in ms (default Date.now): when keys activate, retire and leave the JWKS. */
  clock?: () => number;
}

export type KeyStatus = 'pending' | 'active' | 'retired';

export interface KeyInfo extends SigningKeyRecord {
  status: KeyStatus;
}

interface LoadedKey {
  record: SigningKeyRecord;
  verify: KeyLike;
  sign?: KeyLike;
}

/** How often the published set is re-read, so rotations made by another instance are seen. */
const refreshMs = KEY_RELOAD_SECONDS * 1000;

/** Whether a key may sign at `now`: its time has come and it has not retired. */
function maySign(k: SigningKeyRecord, now: number): boolean {
  return k.activatesAt.getTime() <= now && (!k.retiredAt || k.retiredAt.getTime() > now);
}

/** Newest first (by activation, then creation): the first key whose time has come signs. */
function newestFirst(keys: SigningKeyRecord[]): SigningKeyRecord[] {
  return keys.sort((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime() || b.createdAt.getTime() - a.createdAt.getTime());
}

/**
 * Signing keys: generated on first start, private parts encrypted at rest, published in the JWKS,
 * rotated without a failed verification (a new key is published `publishDelay` seconds before it
 * signs; the old one stays published until its tokens have expired). Keys are cached in memory
 * and re-read periodically and whenever a token names an unknown kid.
 */
export class KeyStore {
  private keys: LoadedKey[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | undefined;
  private readonly storage: SigningKeyStorage;
  private readonly now: () => number;

  /** `storage`: a SigningKeyStorage, or a DataSource for the signing_keys table. */
  constructor(
    storage: SigningKeyStorage | DataSource,
    private readonly options: KeyStoreOptions,
  ) {
    this.storage = storage instanceof DataSource ? new SqlSigningKeys(storage) : storage;
    this.now = options.clock ?? Date.now;
  }

  /** Makes sure a signing key exists (one server instance creates it), then loads the keys. */
  async init(): Promise<void> {
    await this.storage.exclusively(async (tx) => {
      const now = this.now();
      const published = newestFirst(await tx.published(new Date(now)));
      const signer = published.find((k) => maySign(k, now));
      const pendingForAlg = published.some((k) => k.alg === this.options.alg && k.activatesAt.getTime() > now);
      if (!signer || (signer.alg !== this.options.alg && !pendingForAlg)) {
        // No key can sign (first start), or the configured algorithm changed: a key of the
        // configured algorithm signs at once, and the old ones retire.
        await this.create(tx, new Date(now));
      }
    });
    await this.reload();
  }

  /**
   * A new key that signs from `activatesAt`. Every other key that would still sign then (the
   * current one, and a pending one it supersedes) retires at that moment and stays published for
   * `retention` more seconds, the longest life of a token it may have signed.
   */
  private async create(tx: SigningKeyRows, activatesAt: Date): Promise<string> {
    const others = await tx.published(new Date(this.now()));
    const key = await generateSigningKey(this.options.alg);
    await tx.insert({
      kid: key.kid,
      alg: key.alg,
      publicJwk: key.publicJwk,
      privateKeyEncrypted: encryptPrivateKey(key.privateJwk, this.options.secret),
      activatesAt,
    });
    const unpublishAt = new Date(activatesAt.getTime() + this.options.retention * 1000);
    for (const k of others) {
      if (!k.retiredAt || k.retiredAt.getTime() > activatesAt.getTime()) await tx.retire(k.kid, activatesAt, unpublishAt);
    }
    return key.kid;
  }

  /** Publishes a new key now that signs after the publication delay (or at `delaySeconds`). */
  async rotate(delaySeconds = this.options.publishDelay): Promise<KeyInfo> {
    const kid = await this.storage.exclusively((tx) => this.create(tx, new Date(this.now() + delaySeconds * 1000)));
    await this.reload();
    return this.list().find((k) => k.kid === kid)!;
  }

  async reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const records = newestFirst(await this.storage.published(new Date(this.now())));
        const previous = new Map(this.keys.map((k) => [k.record.kid, k]));
        const next: LoadedKey[] = [];
        for (const record of records) {
          const known = previous.get(record.kid);
          if (known) {
            next.push({ ...known, record });
            continue;
          }
          const alg = record.alg as SigningAlg;
          next.push({ record, verify: await importVerifyKey(record.publicJwk, alg) });
        }
        this.keys = next;
        this.loadedAt = this.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async fresh(): Promise<void> {
    if (this.now() - this.loadedAt > refreshMs) await this.reload();
  }

  /** The key that signs at `now`: the newest one whose time has come and that has not retired. */
  private signerAt(now: number): LoadedKey | undefined {
    return this.keys.find((k) => maySign(k.record, now)) ?? this.keys.find((k) => k.record.activatesAt.getTime() <= now);
  }

  /** The key that signs now: the newest one whose time has come and that has not retired. */
  async signingKey(): Promise<{ kid: string; alg: SigningAlg; privateKey: KeyLike }> {
    await this.fresh();
    const current = this.signerAt(this.now());
    if (!current) throw new Error('no signing key is active');
    const alg = current.record.alg as SigningAlg;
    current.sign ??= await importSigningKey(decryptPrivateKey(current.record.privateKeyEncrypted, this.options.secret), alg);
    return { kid: current.record.kid, alg, privateKey: current.sign };
  }

  /** The verification key for a kid; an unknown kid triggers one re-read (another instance may have rotated). */
  async verificationKey(kid: string): Promise<KeyLike | undefined> {
    await this.fresh();
    let key = this.keys.find((k) => k.record.kid === kid);
    if (!key && this.now() - this.loadedAt > 1000) {
      await this.reload();
      key = this.keys.find((k) => k.record.kid === kid);
    }
    return key?.verify;
  }

  /** The public keys as a JWKS: every key that may still verify a live token. */
  async jwks(): Promise<{ keys: JWK[] }> {
    await this.fresh();
    return { keys: this.keys.map((k) => ({ ...k.record.publicJwk, kid: k.record.kid, alg: k.record.alg, use: 'sig' })) };
  }

  algorithms(): SigningAlg[] {
    return [...new Set(this.keys.map((k) => k.record.alg as SigningAlg))];
  }

  /**
   * Every published key with its state: `active` is the one key that signs now, `pending` one
   * waiting for its time, `retired` every other (including a pending key superseded by a later
   * rotation, and a key a newer one replaced before its scheduled retirement).
   */
  list(): KeyInfo[] {
    const now = this.now();
    const signer = this.signerAt(now);
    return this.keys.map((k) => ({
      ...k.record,
      status:
        k === signer
          ? 'active'
          : k.record.activatesAt.getTime() > now && !(k.record.retiredAt && k.record.retiredAt.getTime() <= now)
            ? 'pending'
            : 'retired',
    }));
  }
}
