import { defaultFieldResolver, isObjectType, type GraphQLField, type GraphQLFieldResolver, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import type { IRules } from 'graphql-shield';
import { forbidden } from '../errors';
import { everyField, ruleAt } from './rule-tree';
import { declarationOf, nobody, plainShield, type AccessContext, type Declaration, type Verdict } from './shield';

type CheckDeclaration = Extract<Declaration, { kind: 'check' }>;
type Resolver = GraphQLFieldResolver<unknown, unknown>;

/**
 * How the compiled path guards one field: its own resolver unwrapped (`anyone`), a declared
 * check, or shield's middleware (a rule we did not declare: `and`, `or`, shield's `rule()`…).
 */
export type FieldAccess = { kind: 'open' } | { kind: 'check'; check: CheckDeclaration } | { kind: 'shield' };

const REFUSED: FieldAccess = { kind: 'check', check: declarationOf(nobody) as CheckDeclaration };

/**
 * Each field's access, from the rules we declared (shield.ts `accessCheck`, `can`, `anyone`)
 * and nothing of shield's objects. A field the tree gives no rule, and any type or field
 * the schema does not have, is refused as shield's fallback refuses.
 */
export function compileAccess(schema: GraphQLSchema, rules: IRules): (typeName: string, fieldName: string) => FieldAccess {
  const table = new Map<string, FieldAccess>();
  for (const { typeName, fieldName } of everyField(schema)) {
    const fieldRule = ruleAt(rules, typeName, fieldName);
    const declared = fieldRule === undefined ? declarationOf(nobody) : declarationOf(fieldRule);
    const access: FieldAccess = !declared ? { kind: 'shield' } : declared.kind === 'anyone' ? { kind: 'open' } : { kind: 'check', check: declared };
    table.set(`${typeName}.${fieldName}`, access);
  }
  return (typeName, fieldName) => table.get(`${typeName}.${fieldName}`) ?? REFUSED;
}

/**
 * `schema` guarded as shield guards it, in fewer steps: shield's middleware everywhere
 * (plainShield), then each field with a declared rule runs that declaration directly. Shield
 * puts an async rule check around every field of every row, `allow` ones too, and makes a
 * promise of each; a declared check answers synchronously and an `anyone` field keeps its
 * own resolver. Same verdicts, codes and caching (lib/test/compiled-access.test.ts shows it
 * for random callers, permissions and rules). Does not check coverage: applyShield does.
 */
export function compiledShield(schema: GraphQLSchema, rules: IRules): GraphQLSchema {
  const shielded = plainShield(schema, rules);
  const access = compileAccess(schema, rules);
  for (const { typeName, fieldName } of everyField(shielded)) {
    const fieldAccess = access(typeName, fieldName);
    const subscribe = fieldOf(schema, typeName, fieldName)?.subscribe;
    if (fieldAccess.kind === 'shield') {
      if (subscribe) throw new Error(`${typeName}.${fieldName}: a subscription field needs a rule made by accessCheck, can or anyone (shield would not guard its subscribe)`);
      continue;
    }
    const resolve = fieldOf(schema, typeName, fieldName)?.resolve ?? defaultFieldResolver;
    const field = fieldOf(shielded, typeName, fieldName);
    if (!field) continue;
    field.resolve = fieldAccess.kind === 'open' ? resolve : guarded(fieldAccess.check, resolve);
    // graphql-middleware wraps a field's resolve OR its subscribe, never both: a subscription
    // field with a resolve of its own would start unguarded. Its rule runs at subscribe here.
    if (subscribe) field.subscribe = fieldAccess.kind === 'open' ? subscribe : guarded(fieldAccess.check, subscribe);
  }
  return shielded;
}

function fieldOf(schema: GraphQLSchema, typeName: string, fieldName: string): GraphQLField<unknown, unknown> | undefined {
  const type = schema.getType(typeName);
  return isObjectType(type) ? type.getFields()[fieldName] : undefined;
}

function guarded(check: CheckDeclaration, resolve: Resolver): Resolver {
  return (parent, args, context, info) => admit(verdictOf(check, parent, context), resolve, parent, args, context, info);
}

// Module-level, not a closure per field: every guarded field of every row passes here.
function admit(verdict: Verdict, resolve: Resolver, parent: unknown, args: Record<string, unknown>, context: unknown, info: GraphQLResolveInfo): unknown {
  if (verdict === true) return resolve(parent, args, context, info);
  throw verdict === false ? forbidden() : verdict;
}

/** Per request (context object): a contextual check's verdict by name, as shield's own cache keys it. */
const contextualVerdicts = new WeakMap<object, Map<string, Verdict>>();

/** What shield makes of a check: its verdict; true only if it is exactly true; a throw refuses. */
function verdictOf(check: CheckDeclaration, parent: unknown, context: unknown): Verdict {
  const request = context as AccessContext;
  if (check.cache === 'no_cache' || typeof context !== 'object' || context === null) return decide(check, parent, request);
  let verdicts = contextualVerdicts.get(context);
  if (!verdicts) {
    verdicts = new Map();
    contextualVerdicts.set(context, verdicts);
  }
  let verdict = verdicts.get(check.name);
  if (verdict === undefined) {
    verdict = decide(check, parent, request);
    verdicts.set(check.name, verdict);
  }
  return verdict;
}

function decide(check: CheckDeclaration, parent: unknown, context: AccessContext): Verdict {
  try {
    const verdict = check.decide(parent, context);
    return verdict instanceof Error ? verdict : verdict === true;
  } catch {
    return false;
  }
}
