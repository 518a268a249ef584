import type { GraphQLSchema } from 'graphql';
import type { IRules } from 'graphql-shield';
import { compiledShield } from './compiled-access';
import { assertEveryFieldCovered } from './rule-tree';

const shielded = new WeakSet<GraphQLSchema>();

/**
 * A subgraph's schema guarded by its rules, or a refusal to start: every field of every
 * object type must have a rule in the tree (an UncoveredFieldsError names those that have
 * none), so no field's access is left to a default. Shield validates the rest of the tree
 * (a rule for a type or field the schema lacks throws). Returns a new schema.
 */
export function applyShield(schema: GraphQLSchema, rules: IRules): GraphQLSchema {
  if (shielded.has(schema)) throw new Error('This schema is shielded already');
  assertEveryFieldCovered(schema, rules);
  const guarded = compiledShield(schema, rules);
  shielded.add(guarded);
  return guarded;
}
