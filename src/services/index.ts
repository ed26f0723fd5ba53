import type { Deps } from '../server/deps.js';
import type { Implementations } from '../server/routes.js';
import { createAgentService } from './agent-service.js';
import { createApiKeyService } from './api-key-service.js';
import { createAppRegistryService } from './app-registry-service.js';
import { createAuthService } from './auth-service.js';
import { createDirectoryService } from './directory-service.js';
import { createFactorService } from './factor-service.js';

/** One implementation per service, all built from the same dependencies. */
export function createServices(deps: Deps): Implementations {
  return {
    auth: createAuthService(deps),
    directory: createDirectoryService(deps),
    agent: createAgentService(deps),
    apiKey: createApiKeyService(deps),
    appRegistry: createAppRegistryService(deps),
    factor: createFactorService(deps),
  };
}
