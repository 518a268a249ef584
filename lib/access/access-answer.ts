import type { IRules } from 'graphql-shield';
import { ruleAt } from './rule-tree';
import { declarationOf, type AccessContext } from './shield';

const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'] as const;

/**
 * What the caller may do here, one answer per root field (`trackerAccess { createTask … }`,
 * docs/architecture.md, Permissions): each answer is the verdict of the very rule shield runs
 * for that field, read from this subgraph's own permission table through the request's
 * context. No role names and no second copy of the rules, so the answer cannot drift from
 * what the field allows. Only rules that read nothing but the context can answer ahead
 * (accessCheck 'contextual', can, signedIn, anyone): any other is a programming error.
 */
export function accessAnswer<TField extends string>(rules: IRules, fields: readonly TField[], context: AccessContext): Record<TField, boolean> {
  return Object.fromEntries(fields.map((field) => [field, admits(rules, field, context)])) as Record<TField, boolean>;
}

function admits(rules: IRules, field: string, context: AccessContext): boolean {
  const rootType = ROOT_TYPES.find((typeName) => ruleAt(rules, typeName, field) !== undefined);
  const declared = rootType === undefined ? undefined : declarationOf(ruleAt(rules, rootType, field)!);
  if (!declared) throw new Error(`${field}: no root field of this subgraph has a rule declared with accessCheck, can or anyone`);
  if (declared.kind === 'anyone') return true;
  if (declared.cache !== 'contextual') throw new Error(`${field}: its rule reads the parent object, so it cannot be answered ahead`);
  try {
    return declared.decide(undefined, context) === true;
  } catch {
    return false; // shield reads a throwing rule as a refusal
  }
}
