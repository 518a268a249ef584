import { getIntrospectionQuery } from 'graphql';
import { gatewayHeaders, dataOf, type GraphQLResponse } from '@popug/testing/stack';
import { isolateDevelopmentFile } from '@popug/testing/isolation';
import { codesOf, expectNoInternals, useHostileBed } from './hostile-bed';

/**
 * Introspection in development (on, for the playground) stays inside the query limits:
 * graphql-js's MaxIntrospectionDepthRule bounds its nesting, and an introspection budget
 * of its own (lib/graphql-limits.ts) bounds its fields and depth,
 * at the gateway and in every subgraph. The playground's own introspection still works.
 * Development mode is asked for: production turns introspection off altogether (requests.test.ts).
 */

const bed = useHostileBed({}, isolateDevelopmentFile);

const nested = (levels: number, open: (level: number) => string, leaf: string) => {
  let text = leaf;
  for (let level = levels - 1; level >= 0; level--) text = `${open(level)} { ${text} }`;
  return text;
};
/** The issue's 34-level `__schema { types { fields { type { ofType { … } } } } }`. */
const OF_TYPE_TOWER = `{ __schema { types { fields { type { ${nested(30, () => 'ofType', 'name')} } } } } }`;
/** The exponential form: `fields { type { fields { type { … } } } }`. */
const FIELDS_TOWER = `{ __schema { types { ${nested(12, (level) => (level % 2 === 0 ? 'fields' : 'type'), 'name')} } } }`;
const TYPE_TOWER = `{ __type(name: "Query") { ${nested(10, (level) => (level % 2 === 0 ? 'fields' : 'type'), 'name')} } }`;
const INTERFACES_TOWER = `{ __schema { types { ${nested(8, (level) => (level % 2 === 0 ? 'interfaces' : 'possibleTypes'), 'name')} } } }`;
/** Three aliased copies of the playground's whole introspection. */
const WIDE = `{ ${[0, 1, 2].map((i) => `s${i}: __schema { types { ...FullType } }`).join(' ')} } ${getIntrospectionQuery().slice(getIntrospectionQuery().indexOf('fragment FullType'))}`;

const ABUSIVE: [string, string, RegExp][] = [
  ['a 34-level ofType tower', OF_TYPE_TOWER, /Introspection limit/],
  ['an exponential fields/type tower under __schema', FIELDS_TOWER, /Maximum introspection depth exceeded/],
  ['a fields/type tower under __type', TYPE_TOWER, /Maximum introspection depth exceeded/],
  ['an interfaces/possibleTypes tower', INTERFACES_TOWER, /Maximum introspection depth exceeded/],
  ['three aliased copies of the whole introspection', WIDE, /Introspection limit/],
];

describe('introspection within the limits', () => {
  it.each(ABUSIVE)('refuses %s at the gateway, anonymously, before running it', async (_label, query, message) => {
    const result = await bed.system.request(query);
    expect(result.status).toBe(400);
    expect(codesOf(result)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect((result.errors ?? []).some((error) => message.test(error.message))).toBe(true);
    expect(result.data ?? null).toBeNull();
  });

  it.each(['auth', 'tracker', 'accounting', 'analytics'] as const)('refuses the towers in the %s subgraph too', async (name) => {
    // The supergraph's own type names: none may appear in a refusal (the playground's introspection reads them, below).
    const schemaTypes = dataOf(await bed.system.request<{ __schema: { types: { name: string }[] } }>('{ __schema { types { name } } }')).__schema.types
      .map((type) => type.name)
      .filter((type) => !type.startsWith('__') && !['Query', 'Mutation', 'String', 'Boolean', 'Int', 'Float', 'ID'].includes(type));
    expect(schemaTypes.length).toBeGreaterThan(5);
    for (const [query, message] of [
      [OF_TYPE_TOWER, /^Introspection limit: /],
      [FIELDS_TOWER, /^Maximum introspection depth exceeded/],
    ] as const) {
      const response = await fetch(`${bed.system.services[name].url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...gatewayHeaders(bed.env, name) },
        body: JSON.stringify({ query }),
      });
      const text = await response.text();
      const result = JSON.parse(text) as Omit<GraphQLResponse<unknown>, 'status'>;
      expect({ name, status: response.status }).toEqual({ name, status: 400 });
      // Refused while validating, before execution: validation errors only, each the limit's own (graphql-js's
      // depth rule reports the fields/type tower once per path it finds too deep), and no data at all.
      const refusals = (result.errors ?? []).map((error) => `${String(error.extensions?.code)}: ${message.test(error.message) ? 'the limit' : error.message}`);
      expect({ name, refusals: [...new Set(refusals)] }).toEqual({ name, refusals: ['GRAPHQL_VALIDATION_FAILED: the limit'] });
      expect(Object.keys(result).sort()).toEqual(['errors']);
      expectNoInternals(result);
      expect({ name, leaked: schemaTypes.filter((type) => new RegExp(`\\b${type}\\b`).test(text)) }).toEqual({ name, leaked: [] });
    }
  });

  it('still answers the playground\'s introspection query', async () => {
    const result = await bed.system.request<{ __schema: { queryType: { name: string } } }>(getIntrospectionQuery());
    expect(result.errors).toBeUndefined();
    expect(result.data?.__schema.queryType.name).toBe('Query');
  });
});
