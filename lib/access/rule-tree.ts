import { isIntrospectionType, isObjectType, type GraphQLSchema } from 'graphql';
import type { IRules } from 'graphql-shield';

/** graphql-shield exports only the union: a map of types to rules, or one rule. */
export type RuleTypeMap = Extract<IRules, Record<string, unknown>>;
/** A rule or a logic rule (`rule()`, `and()`, `allow`…): what the tree holds at a leaf. */
export type ShieldRule = Exclude<IRules, RuleTypeMap>;

/**
 * A rule tree is what we write: plain object literals mapping types to rules or to field
 * maps. Rules are what shield's constructors make (`rule()`, `and()`, `allow`…), never plain
 * objects, so the object literal is the one thing told apart here; nothing of a rule is read.
 */
function isFieldMap(value: unknown): value is Record<string, ShieldRule> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The rule the tree gives `type.field`, as shield's generator picks it: the field's own,
 * else its type's `*`, else a rule for the whole type (or the whole schema). `undefined`
 * when the tree names none, where shield would fall back to its fallback rule.
 */
export function ruleAt(rules: IRules, typeName: string, fieldName: string): ShieldRule | undefined {
  if (!isFieldMap(rules)) return rules as ShieldRule; // not an object literal: one rule for the whole schema
  const typeRules: unknown = Object.hasOwn(rules, typeName) ? rules[typeName] : undefined;
  if (typeRules === undefined) return undefined;
  if (!isFieldMap(typeRules)) return typeRules as ShieldRule;
  if (Object.hasOwn(typeRules, fieldName)) return typeRules[fieldName];
  return Object.hasOwn(typeRules, '*') ? typeRules['*'] : undefined;
}

/** Every field a resolver answers: the fields of the schema's object types, introspection's aside (graphql-js answers those). */
export function everyField(schema: GraphQLSchema): { typeName: string; fieldName: string }[] {
  return Object.values(schema.getTypeMap())
    .filter(isObjectType)
    .filter((type) => !isIntrospectionType(type))
    .flatMap((type) => Object.keys(type.getFields()).map((fieldName) => ({ typeName: type.name, fieldName })));
}

/** `Type.field` of every field the tree gives no rule, in schema order. */
export function uncoveredFields(schema: GraphQLSchema, rules: IRules): string[] {
  return everyField(schema)
    .filter(({ typeName, fieldName }) => ruleAt(rules, typeName, fieldName) === undefined)
    .map(({ typeName, fieldName }) => `${typeName}.${fieldName}`);
}

/** A service whose rules leave fields without a rule does not start: told by its code, it names the fields. */
export class UncoveredFieldsError extends Error {
  readonly code = 'PERMISSIONS_UNCOVERED';

  constructor(readonly fields: readonly string[]) {
    super(
      `No permission rule covers ${fields.join(', ')}: give every field a rule (anyone, signedIn, can(…), nobody…) ` +
        'in the subgraph\'s permissions.ts; the service does not start with a field whose access nobody decided',
    );
    this.name = 'UncoveredFieldsError';
  }
}

/** Refuses a schema with a field the tree gives no rule (docs/security.md, Permissions fail closed). */
export function assertEveryFieldCovered(schema: GraphQLSchema, rules: IRules): void {
  const uncovered = uncoveredFields(schema, rules);
  if (uncovered.length > 0) throw new UncoveredFieldsError(uncovered);
}
