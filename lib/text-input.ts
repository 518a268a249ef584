import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  TypeInfo,
  getArgumentValues,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { AppError } from './errors';

/**
 * The one check every text argument passes, at the gateway and again in each subgraph,
 * before any resolver runs: a request with one bad string is refused whole, so a
 * mutation with several fields changes nothing. Services still check their own rules
 * (email shape, role names, title brackets); this is what no text field may hold.
 *
 * - control characters (C0, DEL, C1): PostgreSQL refuses NUL, and the rest have no place
 *   in a name or title; a description (an argument named `description`) keeps tab and
 *   line feed, the only two a text area needs;
 * - text that can pass for something else, in every field, descriptions included: the
 *   bidirectional controls (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates,
 *   the marks U+200E, U+200F and U+061C) make text display in another order than it is
 *   stored, so a name or title shown to an admin, or a description that a reader follows,
 *   can read as something it is not ("Trojan Source", CVE-2021-42574); the line and
 *   paragraph separators U+2028 and U+2029 break a line where some readers (mail clients,
 *   JavaScript before ES2019, log viewers) break it and others do not. A description's
 *   line feed does everything a separator would, so nothing is lost there either;
 * - lone UTF-16 surrogates: not Unicode, so not storable as UTF-8 (the driver would
 *   silently store U+FFFD instead);
 * - length: 1 000 characters for a line, 10 000 for a description (services set lower
 *   limits where they have one).
 */
export const TEXT_LIMITS = { line: 1_000, multiline: 10_000 } as const;

/** Arguments (or input fields) by this name are multi-line text. */
const MULTILINE_ARGUMENTS: ReadonlySet<string> = new Set(['description']);

// Matching control characters is the point of these two.
// eslint-disable-next-line no-control-regex
const LINE_FORBIDDEN = /[\u0000-\u001F\u007F-\u009F]/;
// eslint-disable-next-line no-control-regex
const MULTILINE_FORBIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Bidirectional controls and the line and paragraph separators: refused in every field. */
export const DISGUISING = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029]/;

const codePoint = (character: string) => `U+${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/** What is wrong with one text value, or undefined when it may be stored. */
export function textProblem(value: string, multiline: boolean): string | undefined {
  const forbidden = (multiline ? MULTILINE_FORBIDDEN : LINE_FORBIDDEN).exec(value);
  if (forbidden) {
    const code = codePoint(forbidden[0]);
    return multiline
      ? `must not contain control characters other than tab and line feed (found ${code})`
      : `must not contain control characters such as line breaks (found ${code})`;
  }
  const disguising = DISGUISING.exec(value);
  if (disguising) return `must not contain bidirectional controls or line and paragraph separators (found ${codePoint(disguising[0])})`;
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text (found a lone surrogate)';
  const max = multiline ? TEXT_LIMITS.multiline : TEXT_LIMITS.line;
  if (value.length > max) return `at most ${max} characters`;
  return undefined;
}

/** The first text argument of the operation that may not be stored, as BAD_USER_INPUT naming it. */
export function findBadTextArgument(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>): AppError | undefined {
  if (!takesText(schema, document)) return undefined;
  const typeInfo = new TypeInfo(schema);
  let found: AppError | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const definition = typeInfo.getFieldDef();
        if (found || !definition || definition.args.length === 0) return;
        let values: Record<string, unknown>;
        try {
          values = getArgumentValues(definition, node, variables);
        } catch {
          return; // a value of the wrong type: execution refuses it with graphql's own error
        }
        for (const argument of definition.args) {
          found ??= checkValue(argument.type, values[argument.name], argument.name, argument.name);
        }
      },
    }),
  );
  return found;
}

/** Per schema, per parsed document (Apollo keeps one per query text): whether any of its fields takes text. */
const textTakers = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, boolean>>();

/**
 * Whether `document` gives a field an argument that can hold a string (String or ID, at
 * any depth of lists and input objects). Most reads give none (ids aside: `myTasks(status:)`,
 * `transactions(day:)`), so walking their values on every request would check nothing. Only
 * the arguments written in the document count: one left out takes the schema's default,
 * which no client wrote (MyAccount does not pass `transactions(after: String)`, and its
 * document was walked on every request for it: docs/performance.md "Gateway CPU").
 */
function takesText(schema: GraphQLSchema, document: DocumentNode): boolean {
  let known = textTakers.get(schema);
  if (!known) {
    known = new WeakMap();
    textTakers.set(schema, known);
  }
  let answer = known.get(document);
  if (answer === undefined) {
    answer = documentTakesText(schema, document);
    known.set(document, answer);
  }
  return answer;
}

function documentTakesText(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let found = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const definition = typeInfo.getFieldDef();
        if (found || !definition || !node.arguments?.length) return;
        const given = new Set(node.arguments.map((argument) => argument.name.value));
        found = definition.args.some((argument) => given.has(argument.name) && canHoldText(argument.type, new Set()));
      },
    }),
  );
  return found;
}

function canHoldText(type: GraphQLInputType, seen: Set<GraphQLInputType>): boolean {
  const named = getNamedType(type);
  if (isInputObjectType(named)) {
    if (seen.has(named)) return false; // a cycle: its fields are being looked at already
    seen.add(named);
    return Object.values(named.getFields()).some((field) => canHoldText(field.type, seen));
  }
  return named.name === 'String' || named.name === 'ID';
}

function checkValue(type: GraphQLInputType, value: unknown, path: string, name: string): AppError | undefined {
  if (value === null || value === undefined) return undefined;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return checkValue(nullable.ofType, value, path, name);
    for (const item of value) {
      const problem = checkValue(nullable.ofType, item, path, name);
      if (problem) return problem;
    }
    return undefined;
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return undefined;
    for (const field of Object.values(nullable.getFields())) {
      const problem = checkValue(field.type, (value as Record<string, unknown>)[field.name], `${path}.${field.name}`, field.name);
      if (problem) return problem;
    }
    return undefined;
  }
  const scalar = getNamedType(nullable).name;
  if (typeof value !== 'string' || (scalar !== 'String' && scalar !== 'ID')) return undefined;
  const problem = textProblem(value, MULTILINE_ARGUMENTS.has(name));
  // HTTP 400 like graphql's own refusals of a variable's value: nothing of the operation ran.
  return problem ? new AppError('BAD_USER_INPUT', `${path}: ${problem}`, { field: path, http: { status: 400 } }) : undefined;
}

/** The check as an Apollo Server plugin: refuses the whole operation (HTTP 400) before it runs. */
export function textInputPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request }) {
          const problem = findBadTextArgument(schema, document, request.variables ?? {});
          if (problem) throw problem;
        },
      };
    },
  };
}
