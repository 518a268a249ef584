import { buildSubgraphSchema } from '@apollo/subgraph';
import { gql } from 'graphql-tag';
import { applyShield } from '@popug/lib/access/apply-shield';
import { uncoveredFields } from '@popug/lib/access/rule-tree';
import type { SubgraphOptions } from '@popug/lib/subgraph/create-subgraph';
import { readSubgraphSdl, SUBGRAPHS, type SubgraphName } from '../schema/subgraph-sdl';
import { accountingRules } from '../subgraphs/accounting/permissions';
import { resolvers as accountingResolvers } from '../subgraphs/accounting/resolvers';
import { analyticsRules } from '../subgraphs/analytics/permissions';
import { resolvers as analyticsResolvers } from '../subgraphs/analytics/resolvers';
import { authRules } from '../subgraphs/auth/permissions';
import { resolvers as authResolvers } from '../subgraphs/auth/resolvers';
import { trackerRules } from '../subgraphs/tracker/permissions';
import { resolvers as trackerResolvers } from '../subgraphs/tracker/resolvers';

/**
 * Every real subgraph's rules cover every field of its schema (SDL as served, resolvers and
 * rules as server.ts hands them to createSubgraph), so each one starts: applyShield is the
 * step of createSubgraph that refuses a field without a rule (lib/test/shield.test.ts).
 */
const subgraphs: Record<SubgraphName, Pick<SubgraphOptions, 'resolvers' | 'rules'>> = {
  auth: { resolvers: authResolvers, rules: authRules },
  tracker: { resolvers: trackerResolvers, rules: trackerRules },
  accounting: { resolvers: accountingResolvers, rules: accountingRules },
  analytics: { resolvers: analyticsResolvers, rules: analyticsRules },
};

describe.each(SUBGRAPHS)('%s permissions', (name) => {
  const { resolvers, rules } = subgraphs[name];
  const schema = () => buildSubgraphSchema([{ typeDefs: gql(readSubgraphSdl(name)), resolvers }]);

  it('give every field of the schema, federation\'s included, a rule', () => {
    expect(uncoveredFields(schema(), rules)).toEqual([]);
    expect(() => applyShield(schema(), rules)).not.toThrow();
  });
});

test('a subgraph whose rules leave out one field refuses to start, naming it', () => {
  const { description: _left, ...task } = trackerRules.Task as Record<string, unknown>;
  const schema = buildSubgraphSchema([{ typeDefs: gql(readSubgraphSdl('tracker')), resolvers: trackerResolvers }]);
  expect(() => applyShield(schema, { ...trackerRules, Task: task } as SubgraphOptions['rules'])).toThrow(
    expect.objectContaining({ code: 'PERMISSIONS_UNCOVERED', fields: ['Task.description'] }),
  );
});
