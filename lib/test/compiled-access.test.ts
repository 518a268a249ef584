import { buildSubgraphSchema } from '@apollo/subgraph';
import fc from 'fast-check';
import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { allow, and, deny, or } from 'graphql-shield';
import { compileAccess, compiledShield } from '../access/compiled-access';
import type { ShieldRule } from '../access/rule-tree';
import { accessCheck, anyone, can, nobody, plainShield, signedIn, type AccessContext } from '../access/shield';
import { forbidden, unauthenticated } from '../errors';
import type { Caller } from '../identity';

/**
 * The compiled path (compiled-access.ts) decides exactly as graphql-shield does: the same
 * schema and rule tree, guarded once by shield alone (graphql-middleware around every
 * field) and once by compiledShield, answer every query alike — data, and each error's
 * path, code and message — for random callers, permissions, rows and rule assignments,
 * fields without a rule included (shield's fallback refuses them; so does the compiled path),
 * and rules given per field, per type or by a type's `*`.
 */

interface Row {
  owner: string;
  value: number;
  secret: string;
}

const PERMISSIONS = ['a:read', 'b:write', 'c:run'];
const USERS = ['u1', 'u2'];

const ownRow = accessCheck('test:own-row', 'no_cache', (row: Row, context: AccessContext) => {
  if (!context.caller) return unauthenticated();
  return row.owner === context.caller.id ? true : forbidden('Not your row');
});
const oddRow = accessCheck('test:odd-row', 'no_cache', (row: Row) => row.value % 2 === 1);
const brokenForU2 = accessCheck('test:broken-for-u2', 'contextual', (_parent, context) => {
  if (context.caller?.id === 'u2') throw new Error('check broke');
  return true;
});
const holdsAny = accessCheck('test:holds-any', 'contextual', (_parent, context) => context.permissions.size > 0);

/** Declared rules (the compiled path runs them), rules only shield runs, and no rule at all. */
const RULES: Record<string, ShieldRule | undefined> = {
  anyone,
  signedIn,
  nobody,
  canRead: can('a:read'),
  canWrite: can('b:write'),
  canRun: can('c:run'),
  ownRow,
  oddRow,
  brokenForU2,
  holdsAny,
  and: and(signedIn, can('a:read')),
  or: or(can('b:write'), ownRow),
  deny,
  missing: undefined,
};

const QUERY_FIELDS = ['f0', 'f1', 'f2', 'f3', 'rows'] as const;
const ROW_FIELDS = ['owner', 'value', 'secret'] as const;
const typeDefs = parse(`type Query { f0: String, f1: String, f2: String, f3: String, rows: [Row] } type Row { owner: String, value: Int, secret: String }`);

function schemaWith(rows: Row[]): GraphQLSchema {
  const fieldValues = Object.fromEntries(QUERY_FIELDS.filter((field) => field !== 'rows').map((field) => [field, () => field]));
  return buildSubgraphSchema([{ typeDefs, resolvers: { Query: { ...fieldValues, rows: () => rows } } }]);
}

/** How Row's rules are written: a rule per field, one rule for the type, or a `*` with one field of its own. */
type RowShape = 'fields' | 'type' | 'star';

function treeOf(assigned: Record<string, string>, rowShape: RowShape) {
  const ruleOf = (key: string) => RULES[assigned[key] ?? 'missing'];
  const pick = (fields: readonly string[], prefix: string) =>
    Object.fromEntries(fields.flatMap((field) => {
      const fieldRule = ruleOf(`${prefix}.${field}`);
      return fieldRule ? [[field, fieldRule]] : [];
    }));
  const typeRule = ruleOf('Row.owner');
  const row =
    rowShape === 'fields' ? pick(ROW_FIELDS, 'Row') : rowShape === 'type' ? typeRule : { ...pick(['secret'], 'Row'), ...(typeRule ? { '*': typeRule } : {}) };
  return { Query: { ...pick(QUERY_FIELDS, 'Query'), _service: allow }, ...(row ? { Row: row } : {}), _Service: allow };
}

const caller = (id: string): Caller => ({ id, email: `${id}@popug.test`, name: id, role: 'worker', revision: 1 });

/** Data as it is; errors as [path, code, message], sorted: graphql-js orders them by when each settled. */
function outcome(result: ExecutionResult) {
  return {
    data: result.data,
    errors: (result.errors ?? [])
      .map((error) => [error.path?.join('.') ?? '', String(error.extensions.code ?? 'none'), error.message].join(' | '))
      .sort(),
  };
}

const ruleNames = Object.keys(RULES);
const assignment = fc.record(
  Object.fromEntries([...QUERY_FIELDS.map((field) => `Query.${field}`), ...ROW_FIELDS.map((field) => `Row.${field}`)].map((key) => [key, fc.constantFrom(...ruleNames)])),
);

describe('the compiled path and graphql-shield', () => {
  it('decide every field alike, for random callers, permissions, rows and rules', async () => {
    await fc.assert(
      fc.asyncProperty(
        assignment,
        fc.option(fc.constantFrom(...USERS), { nil: null }),
        fc.subarray(PERMISSIONS),
        fc.array(fc.record({ owner: fc.constantFrom(...USERS), value: fc.integer({ min: 0, max: 9 }), secret: fc.constantFrom('s', 't') }), { maxLength: 4 }),
        fc.subarray([...QUERY_FIELDS], { minLength: 1 }),
        fc.subarray([...ROW_FIELDS], { minLength: 1 }),
        fc.constantFrom<RowShape>('fields', 'type', 'star'),
        async (assigned, who, permissions, rows, queryFields, rowFields, rowShape) => {
          const schema = schemaWith(rows);
          const rules = treeOf(assigned, rowShape);
          const document = parse(`{ ${queryFields.map((field) => (field === 'rows' ? `rows { ${rowFields.join(' ')} }` : field)).join(' ')} }`);
          const run = async (guarded: GraphQLSchema) =>
            outcome(await execute({ schema: guarded, document, contextValue: { caller: who ? caller(who) : null, permissions: new Set(permissions) } }));
          expect(await run(compiledShield(schema, rules))).toEqual(await run(plainShield(schema, rules)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses what it has no rule for: a field the tree leaves out, a type or field the schema lacks', () => {
    const access = compileAccess(schemaWith([]), { Query: { f0: anyone, f1: and(signedIn, allow) } });
    expect(access('Query', 'f0')).toEqual({ kind: 'open' });
    expect(access('Query', 'f1')).toEqual({ kind: 'shield' });
    for (const [type, field] of [['Query', 'f2'], ['Row', 'owner'], ['Query', 'nothing'], ['Nothing', 'f0']] as const) {
      expect(access(type, field)).toEqual({ kind: 'check', check: expect.objectContaining({ name: 'nobody' }) });
    }
  });

  it('runs a contextual check once per request', async () => {
    let evaluations = 0;
    const counted = accessCheck('test:counted', 'contextual', () => {
      evaluations += 1;
      return true;
    });
    const rows = [1, 2, 3].map((value) => ({ owner: 'u1', value, secret: 's' }));
    const schema = compiledShield(schemaWith(rows), { Query: { '*': counted }, Row: counted, _Service: allow });
    const result = await execute({ schema, document: parse('{ f0 rows { value secret } }'), contextValue: { caller: caller('u1'), permissions: new Set() } });
    expect(result.errors).toBeUndefined();
    expect(evaluations).toBe(1);
  });
});
