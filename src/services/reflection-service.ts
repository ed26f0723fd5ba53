import { create, createRegistry, toBinary, type DescFile, type DescService, type Registry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  ServerReflection,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from '../../gen/grpc/reflection/v1/reflection_pb.js';

/** Every file a file depends on, itself first, each once. */
function withDependencies(file: DescFile, seen = new Set<string>()): DescFile[] {
  if (seen.has(file.name)) return [];
  seen.add(file.name);
  return [file, ...file.dependencies.flatMap((d) => withDependencies(d, seen))];
}

function fileOfSymbol(registry: Registry, symbol: string): DescFile | undefined {
  const direct = registry.get(symbol);
  if (direct) return direct.file;
  // A method name: <package>.<Service>.<Method>
  const service = registry.getService(symbol.slice(0, symbol.lastIndexOf('.')));
  return service?.file;
}

/**
 * gRPC server reflection (grpc.reflection.v1), so `buf curl`, grpcurl and Postman can list and
 * call every service without a schema. It answers from the descriptors the server was built from.
 */
export function createReflectionService(services: DescService[]): ServiceImpl<typeof ServerReflection> {
  const byName = new Map(services.flatMap((s) => withDependencies(s.file)).map((f) => [f.name, f]));
  const registry = createRegistry(...byName.values());
  const answer = (req: ServerReflectionRequest): ServerReflectionResponse => {
    const base = { validHost: req.host, originalRequest: req };
    const files = (file: DescFile | undefined, what: string) =>
      file
        ? create(ServerReflectionResponseSchema, {
            ...base,
            messageResponse: {
              case: 'fileDescriptorResponse',
              value: {
                fileDescriptorProto: withDependencies(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto)),
              },
            },
          })
        : create(ServerReflectionResponseSchema, {
            ...base,
            messageResponse: { case: 'errorResponse', value: { errorCode: 5, errorMessage: `${what} not found` } },
          });
    const m = req.messageRequest;
    switch (m.case) {
      case 'listServices':
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: {
            case: 'listServicesResponse',
            value: {
              service: services.map((s) => ({ name: s.typeName })),
            },
          },
        });
      case 'fileByFilename':
        return files(byName.get(m.value), `file ${m.value}`);
      case 'fileContainingSymbol':
        return files(fileOfSymbol(registry, m.value), `symbol ${m.value}`);
      case 'fileContainingExtension': {
        const message = registry.getMessage(m.value.containingType);
        const ext = message ? registry.getExtensionFor(message, m.value.extensionNumber) : undefined;
        return files(ext?.file, `extension ${m.value.containingType}.${m.value.extensionNumber}`);
      }
      case 'allExtensionNumbersOfType': {
        const message = registry.getMessage(m.value);
        const numbers = message
          ? [...registry]
              .filter((d) => d.kind === 'extension' && d.extendee.typeName === m.value)
              .map((d) => (d as { number: number }).number)
          : [];
        return message
          ? create(ServerReflectionResponseSchema, {
              ...base,
              messageResponse: { case: 'allExtensionNumbersResponse', value: { baseTypeName: m.value, extensionNumber: numbers } },
            })
          : files(undefined, `type ${m.value}`);
      }
      default:
        return create(ServerReflectionResponseSchema, {
          ...base,
          messageResponse: { case: 'errorResponse', value: { errorCode: 12, errorMessage: 'unsupported request' } },
        });
    }
  };
  return {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) yield answer(req);
    },
  };
}
