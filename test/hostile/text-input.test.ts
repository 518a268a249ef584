import fc from 'fast-check';
import { Kind, print, type OperationDefinitionNode, type TypeNode } from 'graphql';
import { contractDocument, contractOperation } from '@popug/testing/contract';
import { codesOf, useHostileBed } from './hostile-bed';

/**
 * Every string argument of every mutation of the client contract, given text PostgreSQL
 * cannot store or a client should not send (NUL, other C0 and C1 control characters,
 * bidirectional controls, line and paragraph separators, lone UTF-16 surrogates, text over
 * the length limit): BAD_USER_INPUT naming the
 * argument, never an internal error, nothing changed, the system healthy after.
 * Sign-in throttling is opened wide here: this file is about text, not floods.
 */

const bed = useHostileBed({
    RATE_LIMIT_LOGIN_EMAIL_PER_MIN: '100000',
    RATE_LIMIT_LOGIN_IP_PER_MIN: '100000',
    RATE_LIMIT_REGISTER_PER_HOUR: '100000',
    RATE_LIMIT_REGISTER_IP_PER_HOUR: '100000',
  });

const namedType = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type));

/** The contract's mutations, each with its text variables and the argument each feeds. */
function contractTextArguments(): [string, string, string][] {
  const cases: [string, string, string][] = [];
  for (const definition of contractDocument().definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== 'mutation') continue;
    const operation = definition;
    for (const variable of operation.variableDefinitions ?? []) {
      if (!['String', 'ID'].includes(namedType(variable.type))) continue;
      cases.push([operation.name?.value ?? '', variable.variable.name.value, argumentFed(operation, variable.variable.name.value)]);
    }
  }
  return cases;
}

function argumentFed(operation: OperationDefinitionNode, variable: string): string {
  const text = print(operation);
  const match = new RegExp(`(\\w+):\\s*\\$${variable}\\b`).exec(text);
  return match?.[1] ?? variable;
}

const CASES = contractTextArguments();

/** A good value for each variable, so only the one under test is hostile. */
function goodVariables(operation: OperationDefinitionNode): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const variable of operation.variableDefinitions ?? []) {
    const name = variable.variable.name.value;
    const type = namedType(variable.type);
    if (type === 'Boolean') values[name] = false;
    else if (type === 'ID') values[name] = bed.worker.id;
    else if (name === 'email') values[name] = `good-${Math.random().toString(16).slice(2, 10)}@popug.test`;
    else if (name === 'password') values[name] = 'a good long password';
    else if (name === 'role') values[name] = 'worker';
    else if (name === 'permission') values[name] = 'no:such_permission';
    else if (name === 'jiraId') values[name] = 'POPUG-1';
    else if (type === 'String') values[name] = 'Good text';
  }
  return values;
}

/** Characters no text argument accepts; descriptions alone take tab and line feed. */
const controlCharacter = fc.oneof(
  fc.integer({ min: 0x00, max: 0x08 }),
  fc.integer({ min: 0x0b, max: 0x1f }),
  fc.integer({ min: 0x7f, max: 0x9f }),
).map((code) => String.fromCharCode(code));
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const hostileText = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.oneof(controlCharacter, loneSurrogate), fc.string({ maxLength: 20 })).map(([before, bad, after]) => `${before}${bad}${after}`),
  fc.constantFrom('a\u0000b', '\u0000', 'x\ud800', '\udfffy', 'line\rbreak', 'bell\u0007', 'next\u0085line'),
  // Text that can pass for something else: bidirectional controls, line and paragraph separators.
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C', '\u2028', '\u2029')).map(([before, bad]) => `${before}${bad}x`),
  fc.integer({ min: 10_001, max: 10_010 }).map((length) => 'x'.repeat(length)),
);

describe('text arguments of every contract mutation', () => {
  it('finds the contract mutations with text arguments', () => {
    const mutations = new Set(CASES.map(([operation]) => operation));
    expect(mutations).toEqual(new Set(['Register', 'Login', 'ChangePassword', 'RequestPasswordReset', 'ResetPassword', 'CreateRole', 'SetUserRole', 'SetUserActive', 'SetAuthPermission', 'SetTrackerPermission', 'SetAccountingPermission', 'SetAnalyticsPermission', 'CreateTask', 'CompleteTask']));
  });

  it.each(CASES)('%s refuses hostile text in $%s as BAD_USER_INPUT naming "%s", changing nothing', async (operationName, variable, argument) => {
    const operation = contractDocument().definitions.find(
      (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION && definition.name?.value === operationName,
    );
    if (!operation) throw new Error(`no ${operationName}`);
    const query = contractOperation(operationName);
    const before = await bed.snapshot();
    await fc.assert(
      fc.asyncProperty(hostileText, async (text) => {
        const result = await bed.system.request(query, { ...goodVariables(operation), [variable]: text }, bed.adminToken);
        expect({ codes: codesOf(result), field: result.errors?.[0]?.extensions?.field }).toEqual({ codes: ['BAD_USER_INPUT'], field: argument });
        expect(result.errors?.[0]?.message).toContain(argument);
      }),
      { numRuns: 15 },
    );
    expect(await bed.snapshot()).toEqual(before);
  });

  it('still stores a description with tabs and line feeds', async () => {
    const description = 'First line\n\tindented second line';
    const result = await bed.system.request<{ createTask: { description: string } }>(
      'mutation ($description: String!) { createTask(title: "Multi-line", description: $description) { description } }',
      { description },
      bed.adminToken,
    );
    expect(result.data?.createTask.description).toBe(description);
  });

  it('refuses a NUL written inline in the operation (createTask(title: "a\\u0000b")) without an internal error', async () => {
    const before = await bed.snapshot();
    const result = await bed.system.request('mutation { createTask(title: "a\\u0000b", description: "d") { id } }', {}, bed.adminToken);
    expect({ codes: codesOf(result), field: result.errors?.[0]?.extensions?.field }).toEqual({ codes: ['BAD_USER_INPUT'], field: 'title' });
    expect(await bed.snapshot()).toEqual(before);
  });

  it('refuses a NUL in a query argument too (users by role), without an internal error', async () => {
    const result = await bed.system.request('query ($role: String) { users(role: $role) { id } }', { role: 'work\u0000er' }, bed.adminToken);
    expect({ codes: codesOf(result), field: result.errors?.[0]?.extensions?.field }).toEqual({ codes: ['BAD_USER_INPUT'], field: 'role' });
  });
});
