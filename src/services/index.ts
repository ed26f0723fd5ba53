import type { ServiceImpl } from '@connectrpc/connect';
import type { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import type { ApiKeyService } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import type { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import type { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import type { FactorService } from '../../gen/sso/auth/v1/factor_service_pb.js';
import type { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { createAgentService, type AgentServiceDeps } from './agent-service.js';
import { createApiKeyService, type ApiKeyServiceDeps } from './api-key-service.js';
import { createAppRegistryService, type AppRegistryServiceDeps } from './app-registry-service.js';
import { createAuthService, type AuthServiceDeps } from './auth-service.js';
import { createDirectoryService, type DirectoryServiceDeps } from './directory-service.js';
import { createFactorService } from './factor-service.js';
import type { SecondFactorServices } from '../domain/factors/factor-services.js';

/** Every service's implementation: the compiler proves each RPC has a handler. */
export interface Implementations {
  auth: ServiceImpl<typeof AuthService>;
  directory: ServiceImpl<typeof DirectoryService>;
  agent: ServiceImpl<typeof AgentService>;
  apiKey: ServiceImpl<typeof ApiKeyService>;
  appRegistry: ServiceImpl<typeof AppRegistryService>;
  factor: ServiceImpl<typeof FactorService>;
}

/** What all the services together need; each declares its own part, server/deps.ts builds it once. */
export type ServicesDeps = AuthServiceDeps &
  DirectoryServiceDeps &
  AgentServiceDeps &
  ApiKeyServiceDeps &
  AppRegistryServiceDeps & { mfa: SecondFactorServices };

export function createServices(deps: ServicesDeps): Implementations {
  return {
    auth: createAuthService(deps),
    directory: createDirectoryService(deps),
    agent: createAgentService(deps),
    apiKey: createApiKeyService(deps),
    appRegistry: createAppRegistryService(deps),
    factor: createFactorService(deps),
  };
}
