import { buildSchema, parse } from 'graphql';
import { findBadTextArgument } from '../text-input';

/**
 * Which arguments the text check reads (lib/text-input.ts): the ones a document writes, as a
 * literal or a variable, at any depth; an argument left out is the schema's to fill.
 */
const schema = buildSchema(`
  input Page { after: String }
  type Row { id: ID! }
  type Query {
    rows(day: Int, after: String, page: Page): [Row!]!
  }
`);
const OVERRIDE = '\u202E';

describe('the text check', () => {
  it('refuses bad text in an argument the document writes, as a variable, a literal or inside an input object', () => {
    const byVariable = findBadTextArgument(schema, parse('query ($after: String) { rows(after: $after) { id } }'), { after: `x${OVERRIDE}` });
    const byLiteral = findBadTextArgument(schema, parse(`{ rows(after: "x${OVERRIDE}") { id } }`), {});
    const inInput = findBadTextArgument(schema, parse('query ($page: Page) { rows(page: $page) { id } }'), { page: { after: `x${OVERRIDE}` } });
    expect([byVariable, byLiteral, inInput].map((error) => [error?.extensions.code, error?.extensions.field])).toEqual([
      ['BAD_USER_INPUT', 'after'],
      ['BAD_USER_INPUT', 'after'],
      ['BAD_USER_INPUT', 'page.after'],
    ]);
  });

  it('passes a document that writes no text argument, whatever text arguments its fields could take', () => {
    // Variables the document does not use reach no argument.
    expect(findBadTextArgument(schema, parse('query ($day: Int) { rows(day: $day) { id } }'), { day: 1, after: `x${OVERRIDE}` })).toBeUndefined();
    expect(findBadTextArgument(schema, parse('{ rows { id } }'), {})).toBeUndefined();
  });
});
