import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { ConfigError, databaseConfigOf, loadConfig, settings, type Config } from '../src/config.js';
import {
  JOSE_COOLDOWN_SECONDS,
  JWKS_MAX_AGE_SECONDS,
  KEY_RELOAD_SECONDS,
  MIN_KEY_PUBLISH_DELAY_SECONDS,
} from '../src/domain/keys/publish-windows.js';

const secret = 'x'.repeat(32);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.dataDir, './data');
    assert.equal(c.issuer, 'http://localhost:8000');
    assert.equal(c.audience, 'sso');
    assert.deepEqual(c.allowedAudiences, []);
    assert.equal(c.jwtAlg, 'ES256');
    assert.equal(c.accessTtl, 900);
    assert.equal(c.refreshTtl, 2592000);
    assert.equal(c.bcryptCost, 12);
    assert.equal(c.allowRegistration, true);
    assert.deepEqual(c.corsOrigins, []);
    assert.equal(c.keySecret, undefined);
    assert.equal(c.keyPublishDelay, 600);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.tlsCert, undefined);
    assert.equal(c.tlsKey, undefined);
    assert.equal(c.trustProxy, false);
    assert.equal(c.loginMaxFailures, 5);
    assert.equal(c.loginMaxFailuresPerIp, 50);
    assert.equal(c.loginLockBase, 30);
    assert.equal(c.loginLockMax, 3600);
    assert.equal(c.shutdownGrace, 10);
    assert.equal(c.workers, 1);
    assert.equal(c.metricsToken, undefined);
    assert.equal(c.metricsAddress, undefined);
    assert.equal(c.issuerIsDefault, true);
  });

  test('the issuer follows PORT unless SSO_ISSUER is set', () => {
    assert.equal(loadConfig({ PORT: '9100' }).issuer, 'http://localhost:9100');
    assert.equal(loadConfig({ PORT: '9100', SSO_ISSUER: 'https://sso.example.com' }).issuer, 'https://sso.example.com');
    // The server warns at start about a derived issuer (test/server/startup-warnings.test.ts).
    assert.equal(loadConfig({ PORT: '9100' }).issuerIsDefault, true);
    assert.equal(loadConfig({ SSO_ISSUER: 'https://sso.example.com' }).issuerIsDefault, false);
  });

  test('blank values count as unset', () => {
    const c = loadConfig({ PORT: '  ', SSO_JWT_ALG: '', SSO_AUDIENCE: ' ', SSO_CORS_ORIGINS: '' });
    assert.equal(c.port, 8000);
    assert.equal(c.jwtAlg, 'ES256');
    assert.equal(c.audience, 'sso');
    assert.deepEqual(c.corsOrigins, []);
  });

  test('overrides win over the environment', () => {
    const c = loadConfig({ PORT: '9000' }, { port: 1234, bcryptCost: 4 });
    assert.equal(c.port, 1234);
    assert.equal(c.bcryptCost, 4);
  });
});

/** Each documented name, a valid non-default value, and where it must land. */
const readCases: [env: string, value: string, field: keyof Config, expected: unknown][] = [
  ['PORT', '9001', 'port', 9001],
  ['HOST', '127.0.0.1', 'host', '127.0.0.1'],
  ['DATABASE_URL', 'postgres://u:p@db.internal:5432/sso', 'databaseUrl', 'postgres://u:p@db.internal:5432/sso'],
  ['SSO_DATA_DIR', '/var/lib/sso', 'dataDir', '/var/lib/sso'],
  ['SSO_ISSUER', 'https://sso.example.com/', 'issuer', 'https://sso.example.com'],
  ['SSO_AUDIENCE', 'your-app', 'audience', 'your-app'],
  ['SSO_ALLOWED_AUDIENCES', 'a, b ,,c', 'allowedAudiences', ['a', 'b', 'c']],
  ['SSO_JWT_ALG', 'RS256', 'jwtAlg', 'RS256'],
  ['SSO_ACCESS_TTL', '300', 'accessTtl', 300],
  ['SSO_REFRESH_TTL', '86400', 'refreshTtl', 86400],
  ['SSO_BCRYPT_COST', '10', 'bcryptCost', 10],
  ['SSO_ALLOW_REGISTRATION', 'false', 'allowRegistration', false],
  [
    'SSO_CORS_ORIGINS',
    'https://app.example.com, http://localhost:5173',
    'corsOrigins',
    ['https://app.example.com', 'http://localhost:5173'],
  ],
  ['SSO_KEY_SECRET', secret, 'keySecret', secret],
  ['SSO_KEY_PUBLISH_DELAY', '900', 'keyPublishDelay', 900],
  ['SSO_TRUST_PROXY', 'yes', 'trustProxy', true],
  ['SSO_LOGIN_MAX_FAILURES', '3', 'loginMaxFailures', 3],
  ['SSO_LOGIN_MAX_FAILURES_PER_IP', '20', 'loginMaxFailuresPerIp', 20],
  ['SSO_LOGIN_LOCK_SECONDS', '5', 'loginLockBase', 5],
  ['SSO_LOGIN_LOCK_MAX_SECONDS', '60', 'loginLockMax', 60],
  ['SSO_SHUTDOWN_GRACE', '2', 'shutdownGrace', 2],
  ['SSO_REVOCATION_CACHE', 'off', 'revocationCache', false],
  ['SSO_WORKERS', '2', 'workers', 2],
  ['SSO_METRICS_TOKEN', 'm'.repeat(32), 'metricsToken', 'm'.repeat(32)],
  ['SSO_METRICS_ADDRESS', '127.0.0.1:9464', 'metricsAddress', { host: '127.0.0.1', port: 9464 }],
  ['SSO_WEBAUTHN_RP_ID', 'example.com', 'webauthnRpId', 'example.com'],
  [
    'SSO_WEBAUTHN_ORIGINS',
    'http://localhost:8000, http://localhost:5173',
    'webauthnOrigins',
    ['http://localhost:8000', 'http://localhost:5173'],
  ],
  ['LOG_LEVEL', 'debug', 'logLevel', 'debug'],
  ['LOG_FORMAT', 'pretty', 'logFormat', 'pretty'],
];

describe('each environment name is read', () => {
  for (const [env, value, field, expected] of readCases) {
    test(`${env}=${value} -> ${field}`, () => {
      const c = loadConfig({ [env]: value });
      assert.deepEqual(c[field], expected);
      assert.notDeepEqual(loadConfig({})[field], expected, 'the test value must differ from the default');
    });
  }

  test('SSO_TLS_CERT and SSO_TLS_KEY together', () => {
    const c = loadConfig({ SSO_TLS_CERT: '/etc/sso/cert.pem', SSO_TLS_KEY: '/etc/sso/key.pem' });
    assert.equal(c.tlsCert, '/etc/sso/cert.pem');
    assert.equal(c.tlsKey, '/etc/sso/key.pem');
  });

  test('the other algorithms and the postgresql:// scheme are accepted', () => {
    assert.equal(loadConfig({ SSO_JWT_ALG: 'EdDSA' }).jwtAlg, 'EdDSA');
    assert.equal(loadConfig({ SSO_JWT_ALG: 'ES256' }).jwtAlg, 'ES256');
    assert.equal(loadConfig({ DATABASE_URL: 'postgresql://db/sso' }).databaseUrl, 'postgresql://db/sso');
  });

  test('SSO_WORKERS=auto is one process per CPU; 0, 65 and words are refused', () => {
    assert.equal(loadConfig({ SSO_WORKERS: 'auto' }).workers, availableParallelism());
    assert.equal(loadConfig({ SSO_WORKERS: 'AUTO' }).workers, availableParallelism());
    for (const bad of ['0', '65', 'many', '1.5']) assert.match(problemsOf({ SSO_WORKERS: bad }).join(), /SSO_WORKERS/, bad);
  });

  test('booleans accept the usual spellings', () => {
    for (const v of ['1', 'true', 'TRUE', 'yes', 'on']) assert.equal(loadConfig({ SSO_TRUST_PROXY: v }).trustProxy, true, v);
    for (const v of ['0', 'false', 'No', 'off']) assert.equal(loadConfig({ SSO_ALLOW_REGISTRATION: v }).allowRegistration, false, v);
  });

  test('every documented setting is covered here, and every one above is documented', () => {
    const documented = settings.map((s) => s.env).sort();
    const tested = [...new Set([...readCases.map(([env]) => env), 'SSO_TLS_CERT', 'SSO_TLS_KEY'])].sort();
    assert.deepEqual(tested, documented);
  });

  test('the documented defaults are the real ones', () => {
    const c = loadConfig({});
    const numeric: Record<string, keyof Config> = {
      PORT: 'port',
      SSO_ACCESS_TTL: 'accessTtl',
      SSO_REFRESH_TTL: 'refreshTtl',
      SSO_BCRYPT_COST: 'bcryptCost',
      SSO_KEY_PUBLISH_DELAY: 'keyPublishDelay',
      SSO_LOGIN_MAX_FAILURES: 'loginMaxFailures',
      SSO_LOGIN_MAX_FAILURES_PER_IP: 'loginMaxFailuresPerIp',
      SSO_LOGIN_LOCK_SECONDS: 'loginLockBase',
      SSO_LOGIN_LOCK_MAX_SECONDS: 'loginLockMax',
      SSO_SHUTDOWN_GRACE: 'shutdownGrace',
      SSO_WORKERS: 'workers',
    };
    for (const [env, field] of Object.entries(numeric)) {
      assert.equal(String(c[field]), settings.find((s) => s.env === env)!.default, env);
    }
    const textual: Record<string, keyof Config> = {
      HOST: 'host',
      SSO_DATA_DIR: 'dataDir',
      SSO_AUDIENCE: 'audience',
      SSO_JWT_ALG: 'jwtAlg',
      LOG_LEVEL: 'logLevel',
      SSO_ALLOW_REGISTRATION: 'allowRegistration',
      SSO_TRUST_PROXY: 'trustProxy',
    };
    for (const [env, field] of Object.entries(textual)) {
      assert.equal(String(c[field]), settings.find((s) => s.env === env)!.default.replace(/`/g, ''), env);
    }
  });
});

describe('invalid values are reported, all at once', () => {
  test('every bad value is named in one ConfigError', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      SSO_JWT_ALG: 'HS256',
      SSO_ISSUER: 'localhost:8000',
      DATABASE_URL: 'mysql://db/sso',
      SSO_ACCESS_TTL: '-5',
      SSO_REFRESH_TTL: '1.5',
      SSO_BCRYPT_COST: '31',
      SSO_ALLOW_REGISTRATION: 'maybe',
      SSO_CORS_ORIGINS: 'https://ok.example,not-an-origin',
      SSO_KEY_SECRET: 'short',
      SSO_KEY_PUBLISH_DELAY: 'soon',
      SSO_TLS_CERT: '/etc/cert.pem',
      SSO_TRUST_PROXY: '2',
      SSO_SHUTDOWN_GRACE: '601',
      LOG_LEVEL: 'verbose',
      SSO_METRICS_TOKEN: 'short',
      SSO_METRICS_ADDRESS: '9464',
    });
    const expectNamed = [
      'PORT',
      'SSO_JWT_ALG',
      'SSO_ISSUER',
      'DATABASE_URL',
      'SSO_ACCESS_TTL',
      'SSO_REFRESH_TTL',
      'SSO_BCRYPT_COST',
      'SSO_ALLOW_REGISTRATION',
      'SSO_CORS_ORIGINS',
      'SSO_KEY_SECRET',
      'SSO_KEY_PUBLISH_DELAY',
      'SSO_TLS_CERT',
      'SSO_TRUST_PROXY',
      'SSO_SHUTDOWN_GRACE',
      'LOG_LEVEL',
      'SSO_METRICS_TOKEN',
      'SSO_METRICS_ADDRESS',
    ];
    for (const name of expectNamed) {
      assert.ok(
        problems.some((p) => p.includes(name)),
        `no problem names ${name}: ${JSON.stringify(problems)}`,
      );
    }
    assert.equal(problems.length, expectNamed.length, JSON.stringify(problems, null, 1));
  });

  test('the error message lists every problem', () => {
    try {
      loadConfig({ PORT: '70000', LOG_LEVEL: 'loud' });
      assert.fail('expected a ConfigError');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.name, 'ConfigError');
      assert.match(e.message, /PORT/);
      assert.match(e.message, /LOG_LEVEL/);
      assert.equal(e.problems.length, 2);
    }
  });

  const single: [env: Record<string, string>, name: string][] = [
    [{ PORT: '-1' }, 'PORT'],
    [{ PORT: '65536' }, 'PORT'],
    [{ PORT: '80.5' }, 'PORT'],
    [{ SSO_ACCESS_TTL: '0' }, 'SSO_ACCESS_TTL'],
    [{ SSO_BCRYPT_COST: '3' }, 'SSO_BCRYPT_COST'],
    [{ SSO_BCRYPT_COST: '16' }, 'SSO_BCRYPT_COST'],
    [{ SSO_JWT_ALG: 'es256' }, 'SSO_JWT_ALG'],
    [{ SSO_JWT_ALG: 'none' }, 'SSO_JWT_ALG'],
    [{ SSO_ISSUER: 'ftp://sso.example.com' }, 'SSO_ISSUER'],
    [{ SSO_TLS_KEY: '/etc/key.pem' }, 'SSO_TLS_KEY'],
    [{ SSO_LOGIN_LOCK_SECONDS: '600', SSO_LOGIN_LOCK_MAX_SECONDS: '60' }, 'SSO_LOGIN_LOCK_MAX_SECONDS'],
    [{ SSO_KEY_SECRET: 'y'.repeat(31) }, 'SSO_KEY_SECRET'],
    // Set but blank must not silently fall back to a generated development secret.
    [{ SSO_KEY_SECRET: '' }, 'SSO_KEY_SECRET'],
    [{ SSO_KEY_SECRET: '   ' }, 'SSO_KEY_SECRET'],
    // Shorter than the caches between a rotation and a verifier: the new key's tokens would be refused.
    [{ SSO_KEY_PUBLISH_DELAY: '0' }, 'SSO_KEY_PUBLISH_DELAY'],
    [{ SSO_KEY_PUBLISH_DELAY: '20' }, 'SSO_KEY_PUBLISH_DELAY'],
    [{ SSO_KEY_PUBLISH_DELAY: String(MIN_KEY_PUBLISH_DELAY_SECONDS - 1) }, 'SSO_KEY_PUBLISH_DELAY'],
    [{ SSO_METRICS_TOKEN: 't'.repeat(31) }, 'SSO_METRICS_TOKEN'],
    [{ SSO_METRICS_TOKEN: '' }, 'SSO_METRICS_TOKEN'],
    [{ SSO_METRICS_ADDRESS: 'localhost' }, 'SSO_METRICS_ADDRESS'],
    [{ SSO_METRICS_ADDRESS: ':9464' }, 'SSO_METRICS_ADDRESS'],
    [{ SSO_METRICS_ADDRESS: '127.0.0.1:65536' }, 'SSO_METRICS_ADDRESS'],
    [{ SSO_METRICS_ADDRESS: 'http://127.0.0.1:9464' }, 'SSO_METRICS_ADDRESS'],
    [{ SSO_METRICS_ADDRESS: '::1:9464' }, 'SSO_METRICS_ADDRESS'],
  ];
  for (const [env, name] of single) {
    test(`${JSON.stringify(env)} is refused, naming ${name}`, () => {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!, new RegExp(name));
    });
  }
});

describe('SSO_KEY_PUBLISH_DELAY against the refetch windows', () => {
  test('the minimum covers instance reload + JWKS max-age + jose cooldown, with a margin', () => {
    assert.ok(MIN_KEY_PUBLISH_DELAY_SECONDS > KEY_RELOAD_SECONDS + JWKS_MAX_AGE_SECONDS + JOSE_COOLDOWN_SECONDS);
    assert.equal(KEY_RELOAD_SECONDS, 30, 'the instance key reload interval the issue measured');
    assert.equal(JOSE_COOLDOWN_SECONDS, 30, "jose's default cooldownDuration");
  });

  test('the minimum and the default are accepted; the refusal says why', () => {
    assert.equal(
      loadConfig({ SSO_KEY_PUBLISH_DELAY: String(MIN_KEY_PUBLISH_DELAY_SECONDS) }).keyPublishDelay,
      MIN_KEY_PUBLISH_DELAY_SECONDS,
    );
    assert.equal(loadConfig({ SSO_KEY_PUBLISH_DELAY: '600' }).keyPublishDelay, 600);
    const [problem] = problemsOf({ SSO_KEY_PUBLISH_DELAY: '20' });
    assert.match(problem!, new RegExp(`at least ${MIN_KEY_PUBLISH_DELAY_SECONDS} seconds`));
    assert.match(problem!, /"20"/);
    assert.match(problem!, /re-read keys every 30 s/);
    assert.match(problem!, /jose/);
  });

  test('config objects passed directly are not validated (tests rotate with no delay)', () => {
    assert.equal(loadConfig({}, { keyPublishDelay: 0 }).keyPublishDelay, 0);
  });
});

describe('metrics access', () => {
  test('IPv6 and host names are accepted as the metrics address; port 0 picks a free port', () => {
    assert.deepEqual(loadConfig({ SSO_METRICS_ADDRESS: '[::1]:9464' }).metricsAddress, { host: '::1', port: 9464 });
    assert.deepEqual(loadConfig({ SSO_METRICS_ADDRESS: 'metrics.internal:0' }).metricsAddress, { host: 'metrics.internal', port: 0 });
  });
});

describe('README', () => {
  test('the configuration table is the settings table, row for row', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (.*?) \| (.*) \|$/gm)]
      .filter(([, env]) => settings.some((s) => s.env === env) || /^(SSO_|PORT$|HOST$|DATABASE_URL$|LOG_LEVEL$)/.test(env!))
      .map(([, env, def, meaning]) => ({ env, default: def, meaning }));
    assert.deepEqual(
      rows,
      settings.map((s) => ({ env: s.env, default: s.default, meaning: s.meaning })),
    );
  });
});

describe('CORS origins', () => {
  test('origins and `*` are accepted', () => {
    assert.deepEqual(loadConfig({ SSO_CORS_ORIGINS: '*' }).corsOrigins, ['*']);
    assert.deepEqual(loadConfig({ SSO_CORS_ORIGINS: 'http://app.example' }).corsOrigins, ['http://app.example']);
    assert.deepEqual(loadConfig({ SSO_CORS_ORIGINS: 'https://a.example:8443,http://127.0.0.1:3000' }).corsOrigins, [
      'https://a.example:8443',
      'http://127.0.0.1:3000',
    ]);
  });

  for (const bad of ['app.example', 'https://app.example/', 'https://app.example/path', 'ftp://app.example', 'https://', 'null']) {
    test(`${JSON.stringify(bad)} is not an origin`, () => {
      const problems = problemsOf({ SSO_CORS_ORIGINS: `http://fine.example,${bad}` });
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!, /SSO_CORS_ORIGINS/);
      assert.ok(problems[0]!.includes(bad), problems[0]);
    });
  }
});

describe('databaseConfigOf', () => {
  test('DATABASE_URL selects PostgreSQL; unset, the embedded database under SSO_DATA_DIR', () => {
    assert.deepEqual(databaseConfigOf(loadConfig({ DATABASE_URL: 'postgres://db/sso' })), { kind: 'postgres', url: 'postgres://db/sso' });
    assert.deepEqual(databaseConfigOf(loadConfig({})), { kind: 'embedded', dataDir: './data/db' });
    assert.deepEqual(databaseConfigOf(loadConfig({ SSO_DATA_DIR: '/var/lib/sso' })), { kind: 'embedded', dataDir: '/var/lib/sso/db' });
  });
});
