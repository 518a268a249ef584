import type { GraphQLSchema } from 'graphql';
import { applyMiddleware, type IMiddlewareGenerator } from 'graphql-middleware';
import { allow, rule, shield, type IRules } from 'graphql-shield';
import { forbidden, unauthenticated } from '../errors';
import type { Caller } from '../identity';
import type { ShieldRule } from './rule-tree';

/** What shield rules read from a request's context. */
export interface AccessContext {
  caller: Caller | null;
  permissions: ReadonlySet<string>;
}

/**
 * A check's answer: true admits, an Error is the field's error (its code is what the client
 * sees), false is FORBIDDEN. A check that throws refuses too (FORBIDDEN), as shield reads it.
 */
export type Verdict = boolean | Error;

/** `contextual`: one verdict per request (the check reads only the context); `no_cache`: one per parent object. */
export type CheckCache = 'contextual' | 'no_cache';

/**
 * What we declared a rule to be, kept beside the shield rule made from it: shield runs the
 * rule, and applyShield's compiled path (compiled-access.ts) runs the same declaration
 * without reading anything of shield's rule object.
 */
export type Declaration =
  | { kind: 'anyone' }
  | { kind: 'check'; name: string; cache: CheckCache; decide: (parent: unknown, context: AccessContext) => Verdict };

const declarations = new WeakMap<ShieldRule, Declaration>([[allow, { kind: 'anyone' }]]);
const declaredNames = new Set<string>();

/** The declaration a rule was made from by this module, if it was. */
export function declarationOf(shieldRule: ShieldRule): Declaration | undefined {
  return declarations.get(shieldRule);
}

/**
 * A synchronous access check as a graphql-shield rule, declared so the compiled path can run
 * it too. Names are unique: shield's per-request cache keys a contextual rule's verdict by
 * its name, so two checks of one name would answer for each other.
 */
export function accessCheck<TParent = unknown, TContext extends AccessContext = AccessContext>(
  name: string,
  cache: CheckCache,
  decide: (parent: TParent, context: TContext) => Verdict,
): ShieldRule {
  if (declaredNames.has(name)) throw new Error(`Two access checks are named "${name}"`);
  declaredNames.add(name);
  const made = rule(name, { cache })((parent: TParent, _args: unknown, context: TContext) => decide(parent, context));
  // The declaration holds the check for any context; shield hands it only our request contexts.
  declarations.set(made, { kind: 'check', name, cache, decide: decide as (parent: unknown, context: AccessContext) => Verdict });
  return made;
}

export const anyone = allow;

export const signedIn = accessCheck('signed-in', 'contextual', (_parent, context) => (context.caller ? true : unauthenticated()));

/** Refused to everyone: FORBIDDEN for a signed-in caller, UNAUTHENTICATED for nobody. Also shield's fallback. */
export const nobody = accessCheck('nobody', 'contextual', (_parent, context) => (context.caller ? forbidden() : unauthenticated()));

const permissionRules = new Map<string, ShieldRule>();

/** Passes when the caller's role holds `permission` in this subgraph. */
export function can(permission: string): ShieldRule {
  let permissionRule = permissionRules.get(permission);
  if (!permissionRule) {
    permissionRule = accessCheck(`can:${permission}`, 'contextual', (_parent, context) => {
      if (!context.caller) return unauthenticated();
      if (context.permissions.has(permission)) return true;
      return forbidden(`You have no access: this needs the "${permission}" permission`);
    });
    permissionRules.set(permission, permissionRule);
  }
  return permissionRule;
}

/**
 * What every subgraph opens to the gateway: its SDL, and entity references for signed-in
 * callers (shield never guards `__resolveReference`, so those check access themselves).
 */
export const federationQueryRules = { _service: allow, _entities: signedIn };
export const federationTypeRules = { _Service: allow };

/**
 * graphql-shield as the product runs it. Deny by default (`nobody`). A refusal (thrown ===
 * null) is FORBIDDEN (shield's own would reach clients as an internal error); a resolver's
 * error is thrown on, not returned: shield's own `allowExternalErrors` hands it back as the
 * field's value, and graphql-js then tells errors from values by `instanceof Error`, which
 * fails for errors from another realm (Node's own socket errors under jest) and would
 * resolve the child fields of an Error object as if it were the result.
 */
export function shieldMiddleware(rules: IRules): IMiddlewareGenerator<unknown, AccessContext, unknown> {
  return shield(rules, {
    fallbackRule: nobody,
    fallbackError: (thrown) => {
      throw thrown ?? forbidden();
    },
    allowExternalErrors: false,
    debug: false,
  }) as IMiddlewareGenerator<unknown, AccessContext, unknown>;
}

/**
 * `schema` with shield's middleware around every field, through graphql-middleware's
 * `applyMiddleware` (a new schema; `schema` stays as it was). Shield validates the tree:
 * a rule for a type or field the schema lacks throws.
 */
export function plainShield(schema: GraphQLSchema, rules: IRules): GraphQLSchema {
  return applyMiddleware(schema, shieldMiddleware(rules));
}
