import { getOption, hasOption, type DescField, type DescMessage, type DescMethod, type DescService } from '@bufbuild/protobuf';
import { http } from '../../gen/google/api/annotations_pb.js';
import { ErrorFormat, rest_errors } from '../../gen/sso/options/v1/options_pb.js';
import type { HttpRule } from '../../gen/google/api/http_pb.js';
import { parseTemplate, type PathTemplate } from './path-template.js';
import { resolveFieldPath } from './field-values.js';

/** One REST binding of an RPC, from its `google.api.http` rule or one of its `additional_bindings`. */
export interface RestRoute {
  /** Upper-case HTTP method, e.g. "GET". */
  httpMethod: string;
  /** The path template as written in the proto, e.g. "/api/sso/v1/users/{id}". */
  template: string;
  method: DescMethod;
  /** "" (no body), "*" (the body is the request message) or a top-level request field name. */
  bodyField: string;
  /** "" (the whole response) or the response field whose value is the REST answer. */
  responseBodyField: string;
  /** How errors are written: the service's shape, or OAuth's (`sso.options.v1.rest_errors`). */
  errorFormat: ErrorFormat;
}

/** A route with what matching and transcoding need, prepared once at start-up. */
export interface CompiledRoute extends RestRoute {
  path: PathTemplate;
  /** The request field the body fills, when `bodyField` names one. */
  body: DescField | undefined;
  /** The response field answered, when `responseBodyField` names one. */
  responseBody: DescField | undefined;
  /** Top-level request fields bound by the path (query parameters cannot override them). */
  pathTopFields: Set<string>;
}

export class RouteConfigError extends Error {
  constructor(method: DescMethod, problem: string) {
    super(`google.api.http on ${method.parent.typeName}.${method.name}: ${problem}`);
    this.name = 'RouteConfigError';
  }
}

/**
 * Reads the `google.api.http` annotations of every unary method of the given
 * services (with their `additional_bindings`) and compiles them into routes.
 * Throws {@link RouteConfigError} when an annotation is inconsistent with the
 * messages, so a broken proto fails at start-up rather than per request.
 */
export function collectRoutes(services: DescService[]): CompiledRoute[] {
  const routes: CompiledRoute[] = [];
  for (const service of services) {
    for (const method of service.methods) {
      if (method.methodKind !== 'unary') continue;
      const rule = getOption(method, http);
      if (rule.pattern.case === undefined) continue;
      for (const binding of [rule, ...rule.additionalBindings]) {
        routes.push(compileBinding(method, binding));
      }
    }
  }
  return routes;
}

function compileBinding(method: DescMethod, rule: HttpRule): CompiledRoute {
  let httpMethod: string;
  let template: string;
  switch (rule.pattern.case) {
    case 'get':
    case 'put':
    case 'post':
    case 'delete':
    case 'patch':
      httpMethod = rule.pattern.case.toUpperCase();
      template = rule.pattern.value;
      break;
    case 'custom':
      httpMethod = rule.pattern.value.kind.toUpperCase();
      template = rule.pattern.value.path;
      break;
    default:
      throw new RouteConfigError(method, 'a binding has no pattern');
  }
  let path: PathTemplate;
  try {
    path = parseTemplate(template);
  } catch (e) {
    throw new RouteConfigError(method, e instanceof Error ? e.message : String(e));
  }
  const pathTopFields = new Set<string>();
  for (const v of path.variables) {
    const fields = resolveFieldPath(method.input, v.fieldPath);
    const leaf = fields?.[fields.length - 1];
    if (!fields || !leaf || leaf.fieldKind === 'list' || leaf.fieldKind === 'map' || leaf.fieldKind === 'message') {
      throw new RouteConfigError(
        method,
        `path variable {${v.fieldPath.join('.')}} is not a singular scalar field of ${method.input.typeName}`,
      );
    }
    pathTopFields.add(fields[0]!.name);
  }
  const body = rule.body === '' || rule.body === '*' ? undefined : topField(method.input, rule.body);
  if (rule.body !== '' && rule.body !== '*' && !body) {
    throw new RouteConfigError(method, `body "${rule.body}" is not a field of ${method.input.typeName}`);
  }
  const responseBody = rule.responseBody === '' ? undefined : topField(method.output, rule.responseBody);
  if (rule.responseBody !== '' && !responseBody) {
    throw new RouteConfigError(method, `response_body "${rule.responseBody}" is not a field of ${method.output.typeName}`);
  }
  return {
    httpMethod,
    template,
    method,
    bodyField: rule.body,
    responseBodyField: rule.responseBody,
    errorFormat: hasOption(method, rest_errors) ? getOption(method, rest_errors) : ErrorFormat.UNSPECIFIED,
    path,
    body,
    responseBody,
    pathTopFields,
  };
}

function topField(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name);
}
