import { defaultFieldResolver, isIntrospectionType, isObjectType, type GraphQLFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { allow, rule, shield, type IRule, type IRules } from 'graphql-shield';
import type { IMiddlewareGenerator } from 'graphql-middleware';
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

/** A rule or a logic rule (and, or, allow…): what the rule tree holds at a leaf. */
type ShieldRule = typeof allow | IRule;

/** A rule shield made with `rule()`: its function and cache mode are plain properties of it. */
interface PlainRule {
  name: string;
  func: (parent: unknown, args: unknown, context: unknown, info: GraphQLResolveInfo) => unknown;
  cache: 'no_cache' | 'contextual';
}

/** Shield's middleware for one field, as its generator makes it (a function, or one with a fragment). */
type FieldMiddleware =
  | ((resolve: GraphQLFieldResolver<unknown, unknown>, ...rest: Parameters<GraphQLFieldResolver<unknown, unknown>>) => unknown)
  | { resolve: (resolve: GraphQLFieldResolver<unknown, unknown>, ...rest: Parameters<GraphQLFieldResolver<unknown, unknown>>) => unknown };

/** A rule's verdict as shield reads it: true admits, an error is the field's error, anything else is FORBIDDEN. */
type Verdict = true | false | Error;

const shielded = new WeakSet<GraphQLSchema>();

/**
 * Guards every field of `schema` (in place) by its rule in `rules`, as graphql-shield with
 * graphql-middleware would: deny by default (the fallback rule, FORBIDDEN or
 * UNAUTHENTICATED), a rule's error is the field's error, a rule that throws refuses,
 * resolver errors keep their codes (see shieldGenerator). Compiled once per schema:
 *
 * - a field whose rule is `allow` keeps its own resolver, unwrapped (shield would put an
 *   async rule check around every field of every row — 100 000 of them for one 10 000-row
 *   audit log — to answer "allowed" each time);
 * - a plain `rule()` with no cache or a per-request cache is called directly, and a
 *   synchronous verdict resolves the field synchronously: shield's async middleware made a
 *   promise of every guarded field of every row, which graphql-js then had to wait for;
 * - any other rule (and, or, chain, strict caches…) runs through shield's own middleware.
 */
export function applyShield<TSchema extends GraphQLSchema>(schema: TSchema, rules: IRules): TSchema {
  if (shielded.has(schema)) throw new Error('This schema is shielded already');
  // Shield's generator validates the rule tree (unknown types or fields throw) and makes the general middleware.
  const middleware = shieldGenerator(rules).generate(schema) as Record<string, Record<string, FieldMiddleware>>;
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const fieldRule = ruleOf(rules, type.name, field.name);
      if (fieldRule === allow) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      const general = middleware[type.name]?.[field.name];
      if (isPlainRule(fieldRule)) field.resolve = guarded(fieldRule, resolve);
      else if (general) field.resolve = throughShield(general, resolve);
    }
  }
  shielded.add(schema);
  return schema;
}

/** The rule shield applies to a field: the field's own, else its type's `*`, else the fallback. */
function ruleOf(rules: IRules, typeName: string, fieldName: string): ShieldRule {
  if (isShieldRule(rules)) return rules;
  const typeRules = (rules as Record<string, ShieldRule | Record<string, ShieldRule>>)[typeName];
  if (typeRules === undefined) return fallbackRule;
  if (isShieldRule(typeRules)) return typeRules;
  return typeRules[fieldName] ?? typeRules['*'] ?? fallbackRule;
}

function isShieldRule(value: unknown): value is ShieldRule {
  return typeof value === 'object' && value !== null && typeof (value as { resolve?: unknown }).resolve === 'function';
}

function isPlainRule(value: ShieldRule): value is ShieldRule & PlainRule {
  const candidate = value as Partial<PlainRule>;
  return value.constructor.name === 'Rule' && typeof candidate.func === 'function' && (candidate.cache === 'no_cache' || candidate.cache === 'contextual');
}

/** Per request (context object): a contextual rule's result by rule name, as shield's own cache keys it. */
const contextualResults = new WeakMap<object, Map<string, unknown>>();

function guarded(fieldRule: PlainRule, resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return (parent, args, context, info) => {
    let outcome: unknown;
    try {
      outcome = ruleOutcome(fieldRule, parent, args, context, info);
    } catch {
      return admit(false, resolve, parent, args, context, info);
    }
    if (!isPromise(outcome)) return admit(verdictOf(outcome), resolve, parent, args, context, info);
    return outcome.then(verdictOf, () => false as const).then((verdict) => admit(verdict, resolve, parent, args, context, info));
  };
}

// Module-level, not a closure per field: every guarded field of every row passes here.
function admit(
  verdict: Verdict,
  resolve: GraphQLFieldResolver<unknown, unknown>,
  parent: unknown,
  args: Record<string, unknown>,
  context: unknown,
  info: GraphQLResolveInfo,
): unknown {
  if (verdict === true) return resolve(parent, args, context, info);
  throw verdict === false ? forbidden() : verdict;
}

function ruleOutcome(fieldRule: PlainRule, parent: unknown, args: unknown, context: unknown, info: GraphQLResolveInfo): unknown {
  if (fieldRule.cache === 'no_cache' || typeof context !== 'object' || context === null) return fieldRule.func(parent, args, context, info);
  let results = contextualResults.get(context);
  if (!results) {
    results = new Map();
    contextualResults.set(context, results);
  }
  if (!results.has(fieldRule.name)) results.set(fieldRule.name, fieldRule.func(parent, args, context, info));
  return results.get(fieldRule.name);
}

/** What shield's Rule.resolve makes of a rule function's result. */
function verdictOf(result: unknown): Verdict {
  if (result instanceof Error) return result;
  if (typeof result === 'string') return new Error(result);
  return result === true;
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === 'function';
}

function throughShield(general: FieldMiddleware, resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  const run = typeof general === 'function' ? general : general.resolve;
  return (parent, args, context, info) => run(resolve, parent, args, context, info);
}

/** Deny by default: FORBIDDEN for a signed-in caller, UNAUTHENTICATED for nobody. */
const fallbackRule = rule({ cache: 'contextual' })((_parent, _args, context: AccessContext) =>
  context.caller ? forbidden() : unauthenticated(),
);

function shieldGenerator(rules: IRules): IMiddlewareGenerator<unknown, AccessContext, unknown> {
  return shield(rules, {
    fallbackRule,
    // A refusal (thrown === null) is FORBIDDEN (shield's own would reach clients as an
    // internal error); a resolver's error is thrown on, not returned: shield's own
    // `allowExternalErrors` hands it back as the field's value, and graphql-js then tells
    // errors from values by `instanceof Error`, which fails for errors from another realm
    // (Node's own socket errors under jest) and would resolve the child fields of an Error
    // object as if it were the result.
    fallbackError: (thrown) => {
      throw thrown ?? forbidden();
    },
    allowExternalErrors: false,
  }) as IMiddlewareGenerator<unknown, AccessContext, unknown>;
}
