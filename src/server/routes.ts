import type { ConnectRouter } from '@connectrpc/connect';
import type { DescService } from '@bufbuild/protobuf';
import { AgentService } from '../../gen/sso/agent/v1/agent_service_pb.js';
import { ApiKeyService } from '../../gen/sso/apikey/v1/api_key_service_pb.js';
import { AppRegistryService } from '../../gen/sso/appregistry/v1/app_registry_service_pb.js';
import { AuthService } from '../../gen/sso/auth/v1/auth_service_pb.js';
import { FactorService } from '../../gen/sso/auth/v1/factor_service_pb.js';
import { DirectoryService } from '../../gen/sso/directory/v1/directory_service_pb.js';
import { Health } from '../../gen/grpc/health/v1/health_pb.js';
import { ServerReflection } from '../../gen/grpc/reflection/v1/reflection_pb.js';
import { createHealthService } from '../services/health-service.js';
import type { Implementations } from '../services/index.js';
import { createReflectionService } from '../services/reflection-service.js';

/** Every service the server answers, in one list: RPC routes, REST routes and reflection read it. */
export const services: DescService[] = [AuthService, DirectoryService, AgentService, ApiKeyService, AppRegistryService, FactorService];

/** Registers every service's implementation, and the standard health and reflection services. */
export function registerServices(router: ConnectRouter, impl: Implementations, ready: () => Promise<boolean>): void {
  router.service(ServerReflection, createReflectionService([...services, Health, ServerReflection]));
  router.service(
    Health,
    createHealthService(
      services.map((s) => s.typeName),
      ready,
    ),
  );
  router.service(AuthService, impl.auth);
  router.service(DirectoryService, impl.directory);
  router.service(AgentService, impl.agent);
  router.service(ApiKeyService, impl.apiKey);
  router.service(AppRegistryService, impl.appRegistry);
  router.service(FactorService, impl.factor);
}
