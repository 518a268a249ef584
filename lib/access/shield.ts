import type { GraphQLSchema } from 'graphql';
import { allow, rule, shield, type IRules } from 'graphql-shield';
import type { IMiddleware, IMiddlewareGenerator } from 'graphql-middleware';
import { forbidden, unauthenticated } from '../errors';
import type { Caller } from '../identity';

/** What shield rules read from a request's context. */
export interface AccessContext {
  caller: Caller | null;
  permissions: ReadonlySet<string>;
}

export const signedIn = rule({ cache: 'contextual' })((_parent, _args, context: AccessContext) =>
  context.caller ? true : unauthenticated(),
);

const permissionRules = new Map<string, ReturnType<ReturnType<typeof rule>>>();

/** Passes when the caller's role holds `permission` in this subgraph. */
export function can(permission: string) {
  let permissionRule = permissionRules.get(permission);
  if (!permissionRule) {
    permissionRule = rule(`can:${permission}`, { cache: 'contextual' })((_parent, _args, context: AccessContext) => {
      if (!context.caller) return unauthenticated();
      if (context.permissions.has(permission)) return true;
      return forbidden(`You have no access: this needs the "${permission}" permission`);
    });
    permissionRules.set(permission, permissionRule);
  }
  return permissionRule;
}

export const anyone = allow;

/**
 * What every subgraph opens to the gateway: its SDL, and entity references for signed-in
 * callers (shield never guards `__resolveReference`, so those check access themselves).
 */
export const federationQueryRules = { _service: allow, _entities: signedIn };
export const federationTypeRules = { _Service: allow };

/**
 * Deny by default with a FORBIDDEN error (shield's own would reach clients as an
 * internal error); resolver errors keep their codes.
 *
 * Types whose whole rule is `allow` (plain data such as an audit-log row) are left
 * unwrapped: shield would otherwise put an async rule check around every field of every
 * row — about 100 000 of them for one 10 000-row audit log — to answer "allowed" each time.
 */
export function createShield(schema: GraphQLSchema, rules: IRules): IMiddleware<unknown, AccessContext, unknown> {
  const middleware = shieldGenerator(rules).generate(schema);
  if (Object.getPrototypeOf(rules) === Object.prototype) {
    for (const [typeName, typeRule] of Object.entries(rules)) {
      if (typeRule === allow) delete (middleware as Record<string, unknown>)[typeName];
    }
  }
  return middleware;
}

function shieldGenerator(rules: IRules): IMiddlewareGenerator<unknown, AccessContext, unknown> {
  return shield(rules, {
    fallbackRule: rule({ cache: 'contextual' })((_parent, _args, context: AccessContext) =>
      context.caller ? forbidden() : unauthenticated(),
    ),
    // A refusal (thrown === null) is FORBIDDEN; a resolver's error is thrown on, not
    // returned: shield's own `allowExternalErrors` hands it back as the field's value, and
    // graphql-js then tells errors from values by `instanceof Error`, which fails for errors
    // from another realm (Node's own socket errors under jest) and would resolve the child
    // fields of an Error object as if it were the result.
    fallbackError: (thrown) => {
      throw thrown ?? forbidden();
    },
    allowExternalErrors: false,
  }) as IMiddlewareGenerator<unknown, AccessContext, unknown>;
}
